"""Build a small multilingual sample deposit (a BagIt 1.0 bag) for `make demo`.

Usage: python scripts/sample_deposit.py DEST

File names and bag-info values are in Uzbek (Latin and Cyrillic), Kazakh, Russian, Persian and
Arabic script, as archivists here receive them. Contents are deterministic.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

PAYLOAD = {
    "Qoʻlyozmalar/Alisher Navoiy — Xamsa/varaq-001.txt": "Хамса, 1-варақ. Хамса, varaq 1.\n",
    "Qoʻlyozmalar/Alisher Navoiy — Xamsa/varaq-002.txt": "Хамса, 2-варақ.\n",
    "Қолжазбалар/Абай Құнанбайұлы/қара сөздер.txt": "Қара сөздер — бірінші сөз.\n",
    "Рукописи/Летопись 1847 года.txt": "Летопись, лист первый.\n",
    "نسخه‌های خطی/دیوان حافظ/برگ ۱.txt": "دیوان حافظ — برگ نخست\n",
    "مخطوطات/كتاب الشفاء.txt": "كتاب الشفاء لابن سينا\n",
    "README.txt": "Sample deposit for preserve: digitised manuscript pages (text stand-ins).\n",
}

BAG_INFO = [
    ("Source-Organization", "Oʻzbekiston Milliy kutubxonasi"),
    ("Source-Organization", "Ўзбекистон Миллий кутубхонаси"),
    ("Contact-Name", "Dilnoza Karimova"),
    ("External-Identifier", "UZ-NL-MS-2026-0001"),
    ("External-Description", "Qoʻlyozmalar toʻplami: Navoiy, Abay, Hofiz, Ibn Sino"),
    ("Title", "Sharq qoʻlyozmalari namunalari"),
    ("Bagging-Date", "2026-11-25"),
]


def main(dest: Path) -> None:
    data = dest / "data"
    lines = {"sha256": [], "sha512": []}
    octets = 0
    for rel, text in sorted(PAYLOAD.items()):
        content = text.encode("utf-8")
        target = data / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        octets += len(content)
        for algorithm in lines:
            lines[algorithm].append(f"{hashlib.new(algorithm, content).hexdigest()}  data/{rel}\n")
    (dest / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
                                    encoding="utf-8")
    info = [*BAG_INFO, ("Payload-Oxum", f"{octets}.{len(PAYLOAD)}")]
    (dest / "bag-info.txt").write_text("".join(f"{k}: {v}\n" for k, v in info), encoding="utf-8")
    tags = ["bagit.txt", "bag-info.txt"]
    for algorithm, entries in lines.items():
        (dest / f"manifest-{algorithm}.txt").write_text("".join(entries), encoding="utf-8")
        tags.append(f"manifest-{algorithm}.txt")
    for algorithm in lines:
        body = "".join(f"{hashlib.new(algorithm, (dest / t).read_bytes()).hexdigest()}  {t}\n"
                       for t in tags)
        (dest / f"tagmanifest-{algorithm}.txt").write_text(body, encoding="utf-8")
    print(f"sample deposit written to {dest}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: sample_deposit.py DEST")
    main(Path(sys.argv[1]))

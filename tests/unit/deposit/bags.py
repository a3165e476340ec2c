"""Building bags for tests from dicts (STYLE.md: fixtures build bags from dicts)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from preserve.checksums import hash_file
from preserve.deposit import (
    Deposit,
    check_payload,
    format_manifest_line,
    format_tag_file,
    required_algorithms,
)
from preserve.model import PayloadFile

#: Names archivists really deposit: Uzbek Cyrillic and Latin (with U+02BB), Kazakh, Persian,
#: Arabic, a space and a percent sign is left out (bagit-python rejects `%`).
MULTILINGUAL = {
    "Ўзбекистон тарихи.txt": b"uz-Cyrl\n",
    "Oʻzbekiston/qoʻlyozma 1.txt": b"uz-Latn\n",
    "Қазақ әдебиеті/бет-1.txt": b"kk\n",
    "نسخه خطی/صفحه ۱.txt": b"fa\n",
    "مخطوطة.txt": b"ar\n",
}


def write_files(root: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def make_bag(
    root: Path,
    files: dict[str, bytes],
    algorithms: tuple[str, ...] = ("sha256",),
    bag_info: list[tuple[str, str]] | None = None,
    version: str = "1.0",
    tag_algorithms: tuple[str, ...] = ("sha256",),
    oxum: bool = True,
) -> Path:
    """A valid bag at `root` holding `files` (paths relative to data/)."""
    root.mkdir(parents=True, exist_ok=True)
    write_files(root / "data", files)
    (root / "data").mkdir(exist_ok=True)
    (root / "bagit.txt").write_text(
        f"BagIt-Version: {version}\nTag-File-Character-Encoding: UTF-8\n", encoding="utf-8")
    info = list(bag_info or [("Source-Organization", "Milliy kutubxona")])
    if oxum:
        info.append(("Payload-Oxum", f"{sum(map(len, files.values()))}.{len(files)}"))
    (root / "bag-info.txt").write_text(format_tag_file(info), encoding="utf-8")
    for algorithm in algorithms:
        lines = "".join(format_manifest_line(hashlib.new(algorithm, data).hexdigest(),
                                             f"data/{name}") for name, data in sorted(files.items()))
        (root / f"manifest-{algorithm}.txt").write_text(lines, encoding="utf-8")
    tags = sorted(p.name for p in root.iterdir() if p.is_file())
    for algorithm in tag_algorithms:
        lines = "".join(format_manifest_line(
            hashlib.new(algorithm, (root / name).read_bytes()).hexdigest(), name) for name in tags)
        (root / f"tagmanifest-{algorithm}.txt").write_text(lines, encoding="utf-8")
    return root


def rewrite_manifests(root: Path, files: dict[str, bytes], algorithm: str = "sha256") -> None:
    """Write manifest-<algorithm>.txt raw from {manifest path text: content} (no tag manifest)."""
    lines = "".join(f"{hashlib.new(algorithm, data).hexdigest()}  {name}\n"
                    for name, data in files.items())
    (root / f"manifest-{algorithm}.txt").write_text(lines, encoding="utf-8")
    for tagmanifest in root.glob("tagmanifest-*.txt"):
        tagmanifest.unlink()


def compute(deposit: Deposit) -> dict[str, PayloadFile]:
    """What the ingest does: read each payload file once with every required algorithm."""
    algorithms = required_algorithms(deposit)
    result = {}
    for entry in deposit.payload:
        size, digests = hash_file(entry.source, algorithms)
        result[entry.path] = PayloadFile(entry.path, size, digests)
    return result


def all_findings(deposit: Deposit) -> list:
    return [*deposit.findings, *check_payload(deposit, compute(deposit))]


def codes(findings) -> set[str]:
    return {f.code for f in findings}

"""Deterministic benchmark deposits: BagIt bags (RFC 8493) of incompressible seeded bytes.

Shapes (file counts and sizes at scale 1):

- `many-small`: 20,000 files of 4–64 KiB in nested folders named in Cyrillic, Arabic script
  and Uzbek Latin (the names archivists here actually use);
- `images`: 200 files of 5–20 MiB;
- `large`: 2 files of 1 GiB;
- `many-small-real`: 20,000 files of 4–64 KiB as `many-small`, but each a real file of its
  format (TIFF, JPEG/JFIF, PNG, PDF, XML, plain text in UTF-8, UTF-16, Windows-1251 and
  Windows-1256), made by `benchmarks.realfiles` (issue 17: random bytes are siegfried's worst
  case, and archives deposit real formats);
- `scaling`: like `many-small`, 200,000 files (issue 7, item 3);
- `memory-guard`: one file of 8 GiB (issue 17: an ingest under a 1 GiB memory limit).

`scale` multiplies the file count (at least one file), except for `large`, whose two files
shrink instead. Every byte comes from `random.Random` seeded with the seed, the shape and the
file's number, so the same arguments give the same bytes on every machine and Python 3
version; random bytes do not compress, so no layer can cheat by compressing.

The bag is written complete (bagit.txt, bag-info.txt with a fixed Bagging-Date, sha256 and
sha512 payload and tag manifests), hashed while written. A `corpus.json` written last records
the arguments: a later call with the same arguments reuses the bag instead of writing it again.

    python -m benchmarks.corpus many-small /tmp/corpus --scale 0.01
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import realfiles

#: Bumped whenever the bytes or names a given set of arguments produces change.
GENERATOR_VERSION = 1
KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
#: Random bytes are produced and written in blocks of this size (memory stays flat).
BLOCK = 4 * MIB
ALGORITHMS = ("sha256", "sha512")


@dataclass(frozen=True, slots=True)
class Shape:
    """How many files of which sizes, and how they are named."""

    name: str
    files: int
    min_size: int
    max_size: int
    nested: bool  # folders and multilingual names, as a digitised manuscript collection has
    extensions: tuple[str, ...]
    scale_sizes: bool = False  # `large`: scale shrinks the files, not their number
    real: bool = False  # real files of their formats (benchmarks.realfiles), not random bytes


SHAPES: dict[str, Shape] = {s.name: s for s in (
    Shape("many-small", 20_000, 4 * KIB, 64 * KIB, True, (".tif", ".jpg", ".xml", ".txt", ".pdf")),
    Shape("images", 200, 5 * MIB, 20 * MIB, False, (".tif",)),
    Shape("large", 2, GIB, GIB, False, (".mkv",), scale_sizes=True),
    Shape("many-small-real", 20_000, 4 * KIB, 64 * KIB, True,
          (".tif", ".jpg", ".png", ".pdf", ".xml", ".txt"), real=True),
    Shape("memory-guard", 1, 8 * GIB, 8 * GIB, False, (".mkv",), scale_sizes=True),
    Shape("scaling", 200_000, 4 * KIB, 64 * KIB, True, (".tif", ".jpg", ".xml", ".txt", ".pdf")),
)}

# Words for folder and file names: Uzbek Cyrillic/Russian, Persian/Chagatai in Arabic script,
# Uzbek Latin with its modifier-letter apostrophe (U+02BB). All NFC, none differing only in case.
_WORDS = (
    ("қўлёзма", "рукопись", "девон", "тарих", "мактуб", "китоб", "шеърлар", "Ўзбекистон"),
    ("دیوان", "نامه", "تاریخ", "کتاب", "قلمی", "غزل", "رساله", "مجموعه"),
    ("qoʻlyozma", "Oʻzbekiston", "gʻazal", "tarix", "sheʼr", "maktub", "devon", "bayoz"),
)
#: Files per leaf folder and leaf folders per top folder in the nested shapes.
_PER_FOLDER = 100
_FOLDERS_PER_TOP = 10


@dataclass(frozen=True, slots=True)
class Corpus:
    """A written corpus: the bag directory and what it holds."""

    shape: str
    scale: float
    seed: int
    bag: Path
    files: int
    bytes: int
    generator: int = GENERATOR_VERSION

    @property
    def payload(self) -> Path:
        return self.bag / "data"


def plan(shape: Shape, scale: float, seed: int) -> Iterator[tuple[str, int]]:
    """(payload path relative to `data/`, size) of every file, in order."""
    count = shape.files if shape.scale_sizes else max(1, round(shape.files * scale))
    rng = random.Random(f"{seed}:{shape.name}:plan")
    for i in range(count):
        if shape.scale_sizes:
            size = max(KIB, int(shape.min_size * scale))
        else:
            size = rng.randint(shape.min_size, shape.max_size)
        yield _name(shape, i), size


def _name(shape: Shape, i: int) -> str:
    ext = shape.extensions[i % len(shape.extensions)]
    if not shape.nested:
        stem = {"images": "scan"}.get(shape.name, "master")
        return f"{stem}-{i:05d}{ext}"
    leaf, _ = divmod(i, _PER_FOLDER)
    top, sub = divmod(leaf, _FOLDERS_PER_TOP)
    script_top, script_sub, script_file = top % 3, (top + sub + 1) % 3, (i + 2) % 3
    words_top, words_sub, words_file = _WORDS[script_top], _WORDS[script_sub], _WORDS[script_file]
    return (f"{words_top[top % len(words_top)]}_{top:03d}/"
            f"{words_sub[sub % len(words_sub)]}_{sub:02d}/"
            f"{words_file[i % len(words_file)]}_{i:06d}{ext}")


def _write_file(path: Path, size: int, rng: random.Random) -> dict[str, str]:
    hashers = [hashlib.new(a) for a in ALGORITHMS]
    with open(path, "wb") as out:
        left = size
        while left:
            block = rng.randbytes(min(BLOCK, left))
            for h in hashers:
                h.update(block)
            out.write(block)
            left -= len(block)
    return {a: h.hexdigest() for a, h in zip(ALGORITHMS, hashers, strict=True)}


def _manifest_path(rel: str) -> str:
    # RFC 8493 section 2.1.3: only CR, LF and % are percent-encoded.
    return rel.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def generate(shape_name: str, out: Path, *, scale: float = 1.0, seed: int = 1) -> Corpus:
    """Write the bag for `shape_name` at `out` (reused when already written alike)."""
    shape = SHAPES[shape_name]
    if scale <= 0:
        raise ValueError("scale must be positive")
    marker = out / "corpus.json"
    wanted = {"shape": shape_name, "scale": scale, "seed": seed, "generator": GENERATOR_VERSION}
    if marker.is_file():
        done = json.loads(marker.read_text(encoding="utf-8"))
        if all(done.get(k) == v for k, v in wanted.items()):
            return Corpus(shape=shape_name, scale=scale, seed=seed, bag=out / "bag",
                          files=done["files"], bytes=done["bytes"])
    if out.exists():
        shutil.rmtree(out)
    bag = out / "bag"
    data = bag / "data"
    data.mkdir(parents=True)
    lines: dict[str, list[str]] = {a: [] for a in ALGORITHMS}
    files = total = 0
    made: set[Path] = {data}
    for i, (rel, size) in enumerate(plan(shape, scale, seed)):
        target = data / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        rng = random.Random(f"{seed}:{shape_name}:{i}")
        if shape.real:
            content = realfiles.make(target.suffix, size, rng)
            target.write_bytes(content)
            digests = {a: hashlib.new(a, content).hexdigest() for a in ALGORITHMS}
            size = len(content)
        else:
            digests = _write_file(target, size, rng)
        for a in ALGORITHMS:
            lines[a].append(f"{digests[a]}  data/{_manifest_path(rel)}\n")
        files += 1
        total += size
    _write_tags(bag, lines, files, total, shape_name)
    corpus = Corpus(shape=shape_name, scale=scale, seed=seed, bag=bag, files=files, bytes=total)
    record = asdict(corpus) | {"bag": str(bag)}
    marker.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return corpus


def _write_tags(bag: Path, lines: dict[str, list[str]], files: int, total: int,
                shape: str) -> None:
    tags = {
        "bagit.txt": "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": ("Source-Organization: preserve benchmarks\n"
                         "Bagging-Date: 2026-01-01\n"
                         f"External-Description: benchmark corpus, shape {shape}\n"
                         f"Payload-Oxum: {total}.{files}\n"),
    }
    for a in ALGORITHMS:
        tags[f"manifest-{a}.txt"] = "".join(lines[a])
    for name, text in tags.items():
        (bag / name).write_text(text, encoding="utf-8", newline="\n")
    for a in ALGORITHMS:
        entries = []
        for name in tags:
            digest = hashlib.new(a, tags[name].encode("utf-8")).hexdigest()
            entries.append(f"{digest}  {name}\n")
        (bag / f"tagmanifest-{a}.txt").write_text("".join(entries), encoding="utf-8",
                                                 newline="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shape", choices=sorted(SHAPES))
    parser.add_argument("out", type=Path, help="directory to write (its bag/ is the deposit)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    corpus = generate(args.shape, args.out, scale=args.scale, seed=args.seed)
    print(f"{corpus.bag}: {corpus.files} files, {corpus.bytes} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A helper process of `FormatIdentifier.identify_many` (formats/identify.py).

Reads a JSON list of file names on stdin, identifies them with siegfried in this process,
and writes the answers in the same order on stdout (`identify.as_answer`: distinct
`FormatInfo` rows and a row number per file). Run by `identify.py` with the parent's
Python; not a command for people.

With `--stream` (`preserve.formats.stream`): each line on stdin is a JSON list of names, and
each is answered by one line on stdout, flushed, until stdin ends.
"""

from __future__ import annotations

import json
import sys

from preserve.formats.identify import FormatIdentifier, as_answer


def main() -> int:
    if sys.argv[1:] == ["--stream"]:
        return stream()
    names = json.loads(sys.stdin.buffer.read().decode("utf-8", "surrogateescape"))
    identifier = FormatIdentifier(workers=1)
    infos = identifier.identify_names(names)
    sys.stdout.buffer.write(json.dumps(as_answer(identifier, infos)).encode())
    return 0


def stream() -> int:
    identifier = FormatIdentifier(workers=1)
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        names = json.loads(line.decode("utf-8", "surrogateescape"))
        infos = identifier.identify_names(names)
        out.write(json.dumps(as_answer(identifier, infos)).encode() + b"\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Regenerate docs/settings.md and docs/findings.md from the code's tables.

Usage: python scripts/gen_docs.py   (tests/unit/test_docs.py fails when a setting or code is missing)
"""

from __future__ import annotations

from pathlib import Path

from preserve.findings import CATALOGUE
from preserve.settings import SETTINGS

DOCS = Path(__file__).resolve().parent.parent / "docs"

# The [locations.<name>] tables are not settings of the SETTINGS table (one table per
# location, any number of them): described here, below the generated table.
LOCATIONS_MD = """## Storage locations

Besides the settings above, `preserve.toml` holds one table per storage location
(`preserve locations add` writes them; see [storage-locations.md](storage-locations.md)):

| key | kinds | meaning |
| --- | --- | --- |
| `kind` | all | `local` (a directory on a disk or mount) or `s3` (an S3-compatible bucket) |
| `path` | local | the directory of the location's OCFL storage root |
| `endpoint` | s3 | the endpoint URL (omit for AWS S3) |
| `bucket` | s3 | the bucket |
| `prefix` | s3 | the key prefix of the OCFL root, e.g. `ocfl/` |
| `region` | s3 | the region, e.g. `us-east-1` |

The location `local` is always the home's own `ocfl/` root, where ingests commit first.
Credentials are never written to `preserve.toml` (a key such as `secret_key` is refused):
`PRESERVE_LOCATION_<NAME>_ACCESS_KEY` and `PRESERVE_LOCATION_<NAME>_SECRET_KEY` (the name
upper-cased, `-` as `_`), else boto3's own chain (profile, instance role).
"""


def settings_md() -> str:
    rows = [f"| `{s.name}` | `{s.env}` | `{s.default!r}` | {s.help} |" for s in SETTINGS]
    return "\n".join([
        "# Settings", "",
        "Every setting has a default, a line in `preserve.toml` (written by `preserve init`) and an",
        "environment variable. Layering: defaults < `preserve.toml` < `PRESERVE_*` environment < flags.",
        "The repository home itself is chosen with `--repo DIR` or `PRESERVE_REPO` (default `./storage`).",
        "", "| setting | environment | default | meaning |", "| --- | --- | --- | --- |", *rows,
        "", LOCATIONS_MD.rstrip("\n"), ""])


def findings_md() -> str:
    rows = []
    for code in sorted(CATALOGUE):
        entry = CATALOGUE[code]
        template = entry.template.replace("|", "\\|")
        rows.append(f"| `{code}` | {entry.severity.value} | {template} | {entry.rule} |")
    return "\n".join([
        "# Finding codes", "",
        "Every problem validation finds has a stable code: scripts and tests key on the code, never on",
        "the message. An `error` rejects the deposit (exit 11, nothing stored); a `warning` is",
        "reported and recorded but the deposit is accepted (exit 1). `{...}` in a message is filled",
        "in with the details of the case. Prefixes: `BAG` bag structure and tag files, `MAN`",
        "manifests and fixity, `PAY` payload files, `SER` zip/tar deposits, `NAME` file names, `ING`",
        "ingest decisions.", "",
        "| code | severity | message | rule |", "| --- | --- | --- | --- |", *rows, ""])


if __name__ == "__main__":
    (DOCS / "settings.md").write_text(settings_md(), encoding="utf-8")
    (DOCS / "findings.md").write_text(findings_md(), encoding="utf-8")
    print(f"wrote {DOCS / 'settings.md'} and {DOCS / 'findings.md'}")

"""Comparing digests computed at ingest with what the deposit declares (RFC 8493 section 3).

The caller reads every payload file once (DESIGN.md, "Data flow") and hands over a
`PayloadFile` per path with every algorithm `required_algorithms` names. Here they are
compared with every payload manifest and with Payload-Oxum; tag manifests are verified by
reading the tag files, which are small and were listed (lstat) by the reader, so nothing
outside the bag is opened.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from preserve.checksums import REQUIRED_ALGORITHMS, MultiHasher
from preserve.deposit import tagfiles
from preserve.deposit.report import make
from preserve.deposit.values import Deposit, DepositKind, Limits
from preserve.model import Finding, PayloadFile
from preserve.safeio import read_regular

log = logging.getLogger(__name__)


def required_algorithms(deposit: Deposit) -> frozenset[str]:
    """The digests to compute for each payload file: ours plus every manifest's."""
    return frozenset(REQUIRED_ALGORITHMS) | frozenset(deposit.manifests)


def check_payload(deposit: Deposit, computed: Mapping[str, PayloadFile]) -> list[Finding]:
    """Findings for digests, sizes and Payload-Oxum that do not match; tag manifests too."""
    findings: list[Finding] = []
    listed = {entry.path: entry for entry in deposit.payload}
    for path, entry in listed.items():
        got = computed.get(path)
        if got is None:
            findings.append(make("MAN-E011", _shown(deposit, path), entry=path,
                                 problem="was not read, so no digest was computed for it"))
        elif got.size != entry.size:
            findings.append(make("MAN-E012", _shown(deposit, path), entry=path, actual=got.size,
                                 listed=entry.size))
    for algorithm, entries in deposit.manifests.items():
        manifest = f"manifest-{algorithm}.txt"
        for path, expected in entries.items():
            got = computed.get(path)
            if got is None or path not in listed:
                continue  # missing files are structural findings already
            actual = got.digests.get(algorithm)
            if actual is None:
                findings.append(make("MAN-E011", _shown(deposit, path), entry=path,
                                      problem=f"lacks a {algorithm} digest"))
            elif actual.lower() != expected:
                findings.append(make("MAN-E010", _shown(deposit, path), entry=path, algorithm=algorithm,
                                     actual=actual.lower(), expected=expected, manifest=manifest))
    findings.extend(_check_oxum(deposit, computed))
    findings.extend(_check_tag_manifests(deposit))
    return findings


def _shown(deposit: Deposit, path: str) -> str:
    """A payload path as findings show it: from the bag root for bags."""
    return path if deposit.kind is DepositKind.FOLDER else f"data/{path}"


def _check_oxum(deposit: Deposit, computed: Mapping[str, PayloadFile]) -> list[Finding]:
    if any(f.code in ("BAG-E009", "BAG-E010") for f in deposit.findings):
        return []  # already reported from the listing
    values = deposit.bag_info_values("Payload-Oxum")
    if len(values) != 1 or (oxum := tagfiles.parse_oxum(values[0])) is None:
        return []
    octets = sum(f.size for f in computed.values())
    if oxum != (octets, len(computed)):
        return [make("BAG-E010", "bag-info.txt", declared_octets=oxum[0],
                     declared_streams=oxum[1], octets=octets, streams=len(computed))]
    return []


def _check_tag_manifests(deposit: Deposit) -> list[Finding]:
    findings: list[Finding] = []
    tags = {entry.path: entry for entry in deposit.tag_files}
    algorithms = frozenset(deposit.tag_manifests)
    digests: dict[str, dict[str, str]] = {}
    for path in sorted({p for entries in deposit.tag_manifests.values() for p in entries}):
        entry = tags.get(path)
        if entry is None:
            continue  # reported by the reader (MAN-E009)
        try:  # read_regular refuses symlinks, FIFOs, files swapped in since the listing
            hasher = MultiHasher(algorithms)
            hasher.update(read_regular(entry.source, Limits().max_tag_file_size))
            digests[path] = hasher.hexdigests()
        except OSError as exc:
            findings.append(make("BAG-E015", path, detail=exc.strerror or str(exc)))
    for algorithm, entries in deposit.tag_manifests.items():
        manifest = f"tagmanifest-{algorithm}.txt"
        for path, expected in entries.items():
            actual = digests.get(path, {}).get(algorithm)
            if actual is not None and actual != expected:
                findings.append(make("MAN-E010", path, entry=path, algorithm=algorithm,
                                     actual=actual, expected=expected, manifest=manifest))
    return findings

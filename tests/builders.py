"""Build deposits from dicts (STYLE.md, "Tests": fixtures build bags from dicts).

`write_bag` writes a BagIt bag the way a careful depositor would; keyword arguments let a test
break one rule at a time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

MULTILINGUAL = {
    "Qoʻlyozmalar/varaq 001.txt": b"Uzbek Latin page\n",
    "Қолжазбалар/бет-1.txt": "Kazakh: Қара сөздер\n".encode(),
    "Рукописи/Летопись.txt": "Летопись\n".encode(),
    "نسخه‌های خطی/برگ ۱.txt": "دیوان حافظ\n".encode(),
    "مخطوطات/كتاب.txt": "كتاب الشفاء\n".encode(),
    "empty.txt": b"",
}


def encode_manifest_path(path: str) -> str:
    return path.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


def write_bag(
    root: Path,
    files: Mapping[str, bytes],
    *,
    bag_info: Sequence[tuple[str, str]] = (("Source-Organization", "Milliy kutubxona"),),
    algorithms: Sequence[str] = ("sha256", "sha512"),
    version: str = "1.0",
    oxum: bool = True,
    tag_manifests: bool = True,
) -> Path:
    """Write a valid bag at `root` (created) with `files` under data/; return root."""
    data = root / "data"
    data.mkdir(parents=True)
    for rel, content in files.items():
        target = data / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (root / "bagit.txt").write_bytes(
        f"BagIt-Version: {version}\nTag-File-Character-Encoding: UTF-8\n".encode())
    info = list(bag_info)
    if oxum:
        info.append(("Payload-Oxum", f"{sum(len(c) for c in files.values())}.{len(files)}"))
    (root / "bag-info.txt").write_text("".join(f"{k}: {v}\n" for k, v in info), encoding="utf-8")
    tags = ["bagit.txt", "bag-info.txt"]
    for algorithm in algorithms:
        lines = "".join(f"{hashlib.new(algorithm, c).hexdigest()}  data/{encode_manifest_path(p)}\n"
                        for p, c in sorted(files.items()))
        (root / f"manifest-{algorithm}.txt").write_text(lines, encoding="utf-8")
        tags.append(f"manifest-{algorithm}.txt")
    if tag_manifests:
        for algorithm in algorithms:
            lines = "".join(f"{hashlib.new(algorithm, (root / t).read_bytes()).hexdigest()}  {t}\n"
                            for t in tags)
            (root / f"tagmanifest-{algorithm}.txt").write_text(lines, encoding="utf-8")
    return root


def write_folder(root: Path, files: Mapping[str, bytes]) -> Path:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return root


def storage_snapshot(root: Path) -> dict[str, bytes | None]:
    """`tree_snapshot` of a storage root without the event log's head
    (`preserve-event-log-head.json`), which moves with every event, a failed attempt's too."""
    from preserve.storage.chainhead import HEAD_PATH

    snapshot = tree_snapshot(root)
    snapshot.pop(HEAD_PATH, None)
    return snapshot


def tree_snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path below root with its bytes (None for directories): to assert nothing changed."""
    snapshot: dict[str, bytes | None] = {}
    if not root.exists():
        return snapshot
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            snapshot[os.path.relpath(os.path.join(dirpath, name), root)] = None
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                snapshot[os.path.relpath(path, root)] = handle.read()
    return snapshot


#: METS CHECKSUMTYPE -> hashlib name, for the E-ARK packages tests build.
_METS_TYPES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
               "SHA-512": "sha512"}


def mets_document(files: Mapping[str, tuple[bytes, str]], *, objid: str = "pkg",
                  extra: str = "", admids: Mapping[str, str] | None = None) -> str:
    """A minimal schema-valid METS 1.12.1 whose fileSec lists {href: (content, CHECKSUMTYPE)}
    with CHECKSUM and SIZE (an empty CHECKSUMTYPE: SIZE only); `extra` goes before fileSec."""
    from xml.sax.saxutils import quoteattr

    entries = []
    for number, (href, (content, kind)) in enumerate(sorted(files.items())):
        checksum = (f' CHECKSUMTYPE="{kind}" CHECKSUM="'
                    f'{hashlib.new(_METS_TYPES[kind], content).hexdigest()}"' if kind else "")
        admid = f' ADMID="{admids[href]}"' if admids and href in admids else ""
        entries.append(f'<mets:file ID="f{number}" SIZE="{len(content)}"{checksum}{admid}>'
                       f'<mets:FLocat LOCTYPE="URL" xlink:type="simple" xlink:href='
                       f'{quoteattr(href)}/></mets:file>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<mets:mets xmlns:mets="http://www.loc.gov/METS/" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'OBJID="{objid}">{extra}<mets:fileSec><mets:fileGrp USE="all">{"".join(entries)}'
            '</mets:fileGrp></mets:fileSec><mets:structMap><mets:div/></mets:structMap>'
            '</mets:mets>\n')


def write_eark(root: Path, files: Mapping[str, bytes], *, algorithm: str = "MD5",
               mets_name: str = "METS.xml", metadata: Mapping[str, bytes] | None = None,
               objid: str = "eark-pkg") -> Path:
    """An E-ARK package folder: `files` in representations/rep1/data/, listed with
    `algorithm` checksums and SIZE in the representation METS; the package METS (named
    `mets_name`) lists the representation METS and `metadata` files (SHA-256)."""
    rep = root / "representations" / "rep1"
    write_folder(rep / "data", files)
    rep_mets = mets_document({f"data/{p}": (c, algorithm) for p, c in files.items()},
                             objid=objid).encode()
    (rep / "METS.xml").write_bytes(rep_mets)
    listed = {"representations/rep1/METS.xml": (rep_mets, "SHA-256")}
    for rel, content in (metadata or {}).items():
        write_folder(root, {rel: content})
        listed[rel] = (content, "SHA-256")
    (root / mets_name).write_text(mets_document(listed, objid=objid), encoding="utf-8")
    return root


_PREMIS_NS = {2: "info:lc/xmlns/premis-v2", 3: "http://www.loc.gov/premis/v3"}
#: (identifier, type, time, detail, outcome) of an Archivematica AIP's history, as its METS
#: records it; agents are linked to every event.
AIP_EVENTS = (
    ("6f0c2e31-7b7d-4a4e-9c0b-0d3c4f6b1a01", "ingestion", "2014-05-06T07:08:09Z",
     'program="Archivematica"', "pass"),
    ("6f0c2e31-7b7d-4a4e-9c0b-0d3c4f6b1a02", "format identification", "2014-05-06T07:09:10Z",
     'program="Siegfried"; version="1.7.6"', "Positive"),
    ("6f0c2e31-7b7d-4a4e-9c0b-0d3c4f6b1a03", "message digest calculation",
     "2014-05-06T07:10:11Z", 'program="python"; module="hashlib.sha256()"', ""),
)
AIP_AGENTS = (("preservation system", "Archivematica-1.4.1", "Archivematica", "software"),
              ("repository code", "NLUz", "Milliy kutubxona", "organization"))


def _premis_event(version: int, identifier: str, kind: str, time: str, detail: str,
                  outcome: str, swap: bool = False) -> str:
    detail_xml = (f"<premis:eventDetail>{detail}</premis:eventDetail>" if version == 2 else
                  "<premis:eventDetailInformation><premis:eventDetail>"
                  f"{detail}</premis:eventDetail></premis:eventDetailInformation>")
    kind_xml = f"<premis:eventType>{kind}</premis:eventType>"
    time_xml = f"<premis:eventDateTime>{time}</premis:eventDateTime>"
    links = "".join(
        f"<premis:linkingAgentIdentifier><premis:linkingAgentIdentifierType>{t}"
        f"</premis:linkingAgentIdentifierType><premis:linkingAgentIdentifierValue>{v}"
        "</premis:linkingAgentIdentifierValue></premis:linkingAgentIdentifier>"
        for t, v, _, _ in AIP_AGENTS)
    return (f'<premis:event xmlns:premis="{_PREMIS_NS[version]}" version="{version}.'
            f'{2 if version == 2 else 0}"><premis:eventIdentifier><premis:eventIdentifierType>'
            f"UUID</premis:eventIdentifierType><premis:eventIdentifierValue>{identifier}"
            "</premis:eventIdentifierValue></premis:eventIdentifier>"
            + (time_xml + kind_xml if swap else kind_xml + time_xml) + detail_xml
            + "<premis:eventOutcomeInformation><premis:eventOutcome>"
            f"{outcome}</premis:eventOutcome></premis:eventOutcomeInformation>{links}"
            "</premis:event>")


def _premis_agent(version: int, kind: str, value: str, name: str, agent_type: str) -> str:
    return (f'<premis:agent xmlns:premis="{_PREMIS_NS[version]}" version="{version}.'
            f'{2 if version == 2 else 0}"><premis:agentIdentifier><premis:agentIdentifierType>'
            f"{kind}</premis:agentIdentifierType><premis:agentIdentifierValue>{value}"
            "</premis:agentIdentifierValue></premis:agentIdentifier>"
            f"<premis:agentName>{name}</premis:agentName><premis:agentType>{agent_type}"
            "</premis:agentType></premis:agent>")


def _premis_file(version: int, original: str, puid: str) -> str:
    return (f'<premis:object xmlns:premis="{_PREMIS_NS[version]}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="premis:file" '
            f'version="{version}.{2 if version == 2 else 0}"><premis:objectIdentifier>'
            "<premis:objectIdentifierType>UUID</premis:objectIdentifierType>"
            "<premis:objectIdentifierValue>5a8c0b7e-1d2f-4e3a-9b4c-6d7e8f9a0b1c"
            "</premis:objectIdentifierValue></premis:objectIdentifier>"
            "<premis:objectCharacteristics><premis:compositionLevel>0</premis:compositionLevel>"
            "<premis:format><premis:formatDesignation><premis:formatName>Tagged Image File "
            "Format</premis:formatName></premis:formatDesignation><premis:formatRegistry>"
            "<premis:formatRegistryName>PRONOM</premis:formatRegistryName>"
            f"<premis:formatRegistryKey>{puid}</premis:formatRegistryKey></premis:formatRegistry>"
            "</premis:format></premis:objectCharacteristics>"
            f"<premis:originalName>{original}</premis:originalName></premis:object>")


def archivematica_mets(premis_version: int, *, valid: bool = True,
                       objects: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The METS of an Archivematica AIP: events and agents in digiprovMD (PREMIS 2.2 or 3.0);
    with `valid=False` one PREMIS event has its elements out of schema order. `objects`:
    {href below data/: (originalName, PUID)}, each with its own amdSec as Archivematica does."""
    sections = []
    for number, event in enumerate(AIP_EVENTS):
        sections.append(f'<mets:digiprovMD ID="digiprovMD_{number}"><mets:mdWrap '
                        'MDTYPE="PREMIS:EVENT"><mets:xmlData>'
                        + _premis_event(premis_version, *event, swap=not valid and number == 0)
                        + "</mets:xmlData></mets:mdWrap></mets:digiprovMD>")
    for number, agent in enumerate(AIP_AGENTS):
        sections.append(f'<mets:digiprovMD ID="digiprovMD_a{number}"><mets:mdWrap '
                        'MDTYPE="PREMIS:AGENT"><mets:xmlData>' + _premis_agent(premis_version, *agent)
                        + "</mets:xmlData></mets:mdWrap></mets:digiprovMD>")
    amd = f'<mets:amdSec ID="amdSec_0">{"".join(sections)}</mets:amdSec>'
    admids = {}
    for number, (href, (original, puid)) in enumerate(sorted((objects or {}).items()), 1):
        admids[href] = f"amdSec_{number}"
        amd += (f'<mets:amdSec ID="amdSec_{number}"><mets:techMD ID="techMD_{number}">'
                '<mets:mdWrap MDTYPE="PREMIS:OBJECT"><mets:xmlData>'
                + _premis_file(premis_version, original, puid)
                + "</mets:xmlData></mets:mdWrap></mets:techMD></mets:amdSec>")
    return mets_document({href: (b"", "") for href in admids}, objid="", extra=amd,
                         admids=admids).replace(' OBJID=""', "")


def write_archivematica_aip(root: Path, files: Mapping[str, bytes], *, premis_version: int = 2,
                            valid: bool = True,
                            uuid: str = "0b1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d") -> Path:
    """An uncompressed Archivematica AIP: a BagIt 0.97 bag holding data/objects/`files`, and
    data/METS.<uuid>.xml with the AIP's PREMIS history."""
    payload = {f"objects/{p}": c for p, c in files.items()}
    objects = {f"objects/{p}": (f"%transferDirectory%objects/{p}", "fmt/353") for p in files}
    payload[f"METS.{uuid}.xml"] = archivematica_mets(premis_version, valid=valid,
                                                     objects=objects).encode()
    return write_bag(root, payload, version="0.97",
                     bag_info=(("Bag-Software-Agent", "bagit.py <https://github.com/LibraryOfCongress/bagit-python>"),
                               ("Bagging-Date", "2014-05-06")),
                     algorithms=("sha256",))

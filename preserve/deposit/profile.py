"""BagIt Profiles: reading a profile and checking a bag against it (bagit-profiles 1.4.0).

A profile (the JSON document of the BagIt Profiles Specification, versions 1.1-1.4) says what
a community's bags must carry beyond RFC 8493: bag-info labels (required, allowed values,
repeatable), the manifest and tag-manifest algorithms required and allowed, tag files and
payload files required and allowed, whether fetch.txt is allowed, whether the bag must or must
not be serialized and in which formats, and the BagIt versions accepted.

`load_profile` reads and checks the profile itself (PROF-E001 for an unusable profile, never
an exception); `check_bag` returns one finding per violated rule (PROF-E002..E016), each rule
its own code so a depositor can see which rule failed. A profile is never fetched over the
network here: `find_profile` looks the bag's BagIt-Profile-Identifier up in a local directory
of profiles indexed by their own BagIt-Profile-Info/BagIt-Profile-Identifier.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preserve.deposit.report import make
from preserve.deposit.values import Deposit, DepositKind
from preserve.model import Finding

#: Serialization MIME types (bagit-profiles "Accept-Serialization") a deposit kind matches.
_ZIP_TYPES = frozenset({"application/zip", "application/x-zip", "application/x-zip-compressed"})
_TAR_TYPES = frozenset({"application/x-tar", "application/tar"})
_TGZ_TYPES = frozenset({"application/gzip", "application/x-gzip", "application/tar+gzip",
                        "application/x-gtar", "application/x-compressed-tar"})
_SERIALIZATION = ("required", "optional", "forbidden")
_INFO_REQUIRED = ("BagIt-Profile-Identifier", "Source-Organization", "External-Description",
                  "Version")


@dataclass(frozen=True, slots=True)
class BagInfoRule:
    """One Bag-Info entry of a profile (bagit-profiles 1.4 "Bag-Info")."""

    label: str
    required: bool = False
    values: tuple[str, ...] = ()  # empty: any value
    repeatable: bool = True
    description: str = ""


@dataclass(frozen=True, slots=True)
class Profile:
    """A BagIt profile, read and checked (see the module docstring)."""

    identifier: str
    name: str  # where it was read from, for messages
    info: Mapping[str, str]
    bag_info: tuple[BagInfoRule, ...] = ()
    manifests_required: tuple[str, ...] = ()
    manifests_allowed: tuple[str, ...] | None = None  # None: any
    tag_manifests_required: tuple[str, ...] = ()
    tag_manifests_allowed: tuple[str, ...] | None = None
    tag_files_required: tuple[str, ...] = ()
    tag_files_allowed: tuple[str, ...] | None = None  # glob patterns
    payload_files_required: tuple[str, ...] = ()
    payload_files_allowed: tuple[str, ...] | None = None
    allow_fetch: bool = True
    serialization: str = "optional"
    accept_serialization: tuple[str, ...] = ()
    accept_bagit_version: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


def load_profile(data: bytes, name: str) -> tuple[Profile | None, list[Finding]]:
    """Read the profile JSON `data` (from `name`); None with PROF-E001 findings if unusable."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [make("PROF-E001", name, why=f"not UTF-8 JSON ({exc})")]
    if not isinstance(document, dict):
        return None, [make("PROF-E001", name, why="the document is not a JSON object")]
    problems: list[str] = []
    info = document.get("BagIt-Profile-Info")
    if not isinstance(info, dict):
        problems.append("BagIt-Profile-Info is missing or not an object")
        info = {}
    for key in _INFO_REQUIRED:
        if not isinstance(info.get(key), str) or not info.get(key):
            problems.append(f"BagIt-Profile-Info has no {key}")
    rules: list[BagInfoRule] = []
    bag_info = document.get("Bag-Info", {})
    if not isinstance(bag_info, dict):
        problems.append("Bag-Info is not an object")
        bag_info = {}
    for label, spec in bag_info.items():
        if not isinstance(spec, dict):
            problems.append(f"Bag-Info {label} is not an object")
            continue
        values = spec.get("values", [])
        if not _strings(values):
            problems.append(f"Bag-Info {label} values is not a list of strings")
            values = []
        flags = {k: spec.get(k, default) for k, default in (("required", False),
                                                            ("repeatable", True))}
        if not all(isinstance(v, bool) for v in flags.values()):
            problems.append(f"Bag-Info {label} required/repeatable must be true or false")
            continue
        rules.append(BagInfoRule(label, flags["required"], tuple(values), flags["repeatable"],
                                 str(spec.get("description", ""))))

    def strings(key: str) -> tuple[str, ...] | None:
        value = document.get(key)
        if value is None:
            return None
        if not _strings(value):
            problems.append(f"{key} is not a list of strings")
            return None
        return tuple(value)

    lists = {key: strings(key) for key in (
        "Manifests-Required", "Manifests-Allowed", "Tag-Manifests-Required",
        "Tag-Manifests-Allowed", "Tag-Files-Required", "Tag-Files-Allowed",
        "Payload-Files-Required", "Payload-Files-Allowed", "Accept-Serialization",
        "Accept-BagIt-Version")}
    allow_fetch = document.get("Allow-Fetch.txt", True)
    if not isinstance(allow_fetch, bool):
        problems.append("Allow-Fetch.txt must be true or false")
        allow_fetch = True
    serialization = document.get("Serialization", "optional")
    if serialization not in _SERIALIZATION:
        problems.append(f"Serialization must be one of {', '.join(_SERIALIZATION)}")
        serialization = "optional"
    if not lists["Accept-BagIt-Version"]:
        problems.append("Accept-BagIt-Version (required) is missing or empty")
    for required, allowed in (("Manifests-Required", "Manifests-Allowed"),
                              ("Tag-Manifests-Required", "Tag-Manifests-Allowed")):
        extra = set(lists[required] or ()) - set(lists[allowed] or lists[required] or ())
        if extra:  # bagit-profiles 1.3: Required must be a subset of Allowed
            problems.append(f"{required} names {', '.join(sorted(extra))}, not in {allowed}")
    if problems:
        return None, [make("PROF-E001", name, why="; ".join(problems))]
    return Profile(
        identifier=info["BagIt-Profile-Identifier"], name=name,
        info={k: str(v) for k, v in info.items()}, bag_info=tuple(rules),
        manifests_required=lists["Manifests-Required"] or (),
        manifests_allowed=lists["Manifests-Allowed"],
        tag_manifests_required=lists["Tag-Manifests-Required"] or (),
        tag_manifests_allowed=lists["Tag-Manifests-Allowed"],
        tag_files_required=lists["Tag-Files-Required"] or (),
        tag_files_allowed=lists["Tag-Files-Allowed"],
        payload_files_required=lists["Payload-Files-Required"] or (),
        payload_files_allowed=lists["Payload-Files-Allowed"],
        allow_fetch=allow_fetch, serialization=serialization,
        accept_serialization=lists["Accept-Serialization"] or (),
        accept_bagit_version=lists["Accept-BagIt-Version"] or (), raw=document), []


def read_profile_file(path: Path, max_size: int = 1 << 20) -> tuple[Profile | None, list[Finding]]:
    """`load_profile` of a file; an unreadable file is PROF-E001 too."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(max_size + 1)
    except OSError as exc:
        return None, [make("PROF-E001", str(path), why=exc.strerror or str(exc))]
    if len(data) > max_size:
        return None, [make("PROF-E001", str(path), why=f"larger than {max_size} bytes")]
    return load_profile(data, str(path))


def profile_index(directory: Path) -> tuple[dict[str, Profile], list[Finding]]:
    """Every `*.json` profile in `directory`, by its BagIt-Profile-Identifier."""
    index: dict[str, Profile] = {}
    found: list[Finding] = []
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        return {}, [make("PROF-E001", str(directory), why=exc.strerror or str(exc))]
    for entry in names:
        if entry.startswith(".") or not entry.endswith(".json"):
            continue
        profile, problems = read_profile_file(directory / entry)
        found.extend(problems)
        if profile is not None:
            index.setdefault(profile.identifier, profile)
    return index, found


def find_profile(deposit: Deposit, *, explicit: Profile | None = None,
                 directory: Path | None = None,
                 by_organization: Mapping[str, str] | None = None,
                 ) -> tuple[Profile | None, list[Finding]]:
    """The profile a deposit is checked against, and what choosing it found.

    In order: the profile given (`--profile FILE`); the one configured for the bag's
    Source-Organization (`profiles.by_organization`, organization -> identifier); the one the
    bag names in BagIt-Profile-Identifier. Identifiers are looked up in `directory` only.
    A bag naming a profile the directory does not hold is PROF-W001 (a warning: the bag is
    still checked against RFC 8493 and our rules); a configured one missing is PROF-E016.
    """
    if explicit is not None:
        return explicit, []
    index: dict[str, Profile] = {}
    found: list[Finding] = []
    if directory is not None:
        index, found = profile_index(directory)
    for organization in deposit.bag_info_values("Source-Organization"):
        wanted = (by_organization or {}).get(organization)
        if wanted is not None:
            if wanted in index:
                return index[wanted], found
            return None, [*found, make("PROF-E016", "bag-info.txt", identifier=wanted,
                                       organization=organization)]
    for named in deposit.bag_info_values("BagIt-Profile-Identifier"):
        if named in index:
            return index[named], found
        return None, [*found, make("PROF-W001", "bag-info.txt", identifier=named)]
    return None, found


def check_bag(profile: Profile, deposit: Deposit) -> list[Finding]:
    """Every rule of `profile` the deposit breaks, each its own PROF- code."""
    if deposit.bagit_version is None:
        return [make("PROF-E015", str(deposit.source), profile=profile.identifier,
                     kind=deposit.kind.value)]
    found: list[Finding] = []
    who = profile.identifier
    for rule in profile.bag_info:
        values = deposit.bag_info_values(rule.label)
        if rule.required and not values:
            found.append(make("PROF-E002", "bag-info.txt", label=rule.label, profile=who))
        if rule.values:
            found.extend(make("PROF-E003", "bag-info.txt", label=rule.label, value=value,
                              allowed=", ".join(rule.values), profile=who)
                         for value in values if value not in rule.values)
        if not rule.repeatable and len(values) > 1:
            found.append(make("PROF-E004", "bag-info.txt", label=rule.label, count=len(values),
                              profile=who))
    found += _algorithms(profile.manifests_required, profile.manifests_allowed,
                         deposit.manifests, "manifest", ("PROF-E005", "PROF-E006"), who)
    found += _algorithms(profile.tag_manifests_required, profile.tag_manifests_allowed,
                         deposit.tag_manifests, "tagmanifest", ("PROF-E007", "PROF-E008"), who)
    tag_paths = [tag.path for tag in deposit.tag_files]
    found += _files(profile.tag_files_required, profile.tag_files_allowed, tag_paths,
                    ("PROF-E009", "PROF-E010"), who, always=_always_tag_file)
    payload_paths = ["data/" + entry.path for entry in deposit.payload]
    found += _files(profile.payload_files_required, profile.payload_files_allowed,
                    payload_paths, ("PROF-E011", "PROF-E012"), who, always=lambda _: False)
    if not profile.allow_fetch and (deposit.fetch or "fetch.txt" in tag_paths):
        found.append(make("PROF-E013", "fetch.txt", profile=who))
    found += _serialization(profile, deposit)
    if profile.accept_bagit_version and deposit.bagit_version not in profile.accept_bagit_version:
        found.append(make("PROF-E014", "bagit.txt", version=deposit.bagit_version,
                          accepted=", ".join(profile.accept_bagit_version), profile=who))
    return found


def _algorithms(required: Sequence[str], allowed: Sequence[str] | None,
                present: Mapping[str, object], prefix: str, codes: tuple[str, str],
                who: str) -> list[Finding]:
    found = [make(codes[0], f"{prefix}-{algorithm}.txt", algorithm=algorithm, profile=who)
             for algorithm in required if algorithm not in present]
    if allowed is not None:
        found += [make(codes[1], f"{prefix}-{algorithm}.txt", algorithm=algorithm,
                       allowed=", ".join(allowed), profile=who)
                  for algorithm in sorted(present) if algorithm not in allowed]
    return found


def _always_tag_file(path: str) -> bool:
    """Tag files every bag may have whatever Tag-Files-Allowed says (bagit-profiles 1.4)."""
    return path in ("bagit.txt", "bag-info.txt", "fetch.txt") or (
        "/" not in path and path.startswith(("manifest-", "tagmanifest-")))


def _files(required: Sequence[str], allowed: Sequence[str] | None, present: Sequence[str],
           codes: tuple[str, str], who: str, *, always: Any) -> list[Finding]:
    have = set(present)
    found = [make(codes[0], path, profile=who) for path in required if path not in have]
    if allowed is not None:
        found += [make(codes[1], path, allowed=", ".join(allowed), profile=who)
                  for path in present
                  if not always(path) and not any(fnmatch.fnmatchcase(path, pattern)
                                                  for pattern in allowed)]
    return found


def _serialization(profile: Profile, deposit: Deposit) -> list[Finding]:
    serialized = deposit.kind in (DepositKind.ZIP, DepositKind.TAR)
    who = profile.identifier
    if profile.serialization == "required" and not serialized:
        return [make("PROF-E017", str(deposit.source), rule="required", profile=who,
                     why="the bag was deposited as a directory; deposit it as "
                     + (", ".join(profile.accept_serialization) or "an archive"))]
    if profile.serialization == "forbidden" and serialized:
        return [make("PROF-E017", str(deposit.source), rule="forbidden", profile=who,
                     why="the bag was deposited as an archive; deposit the bag directory")]
    if serialized and profile.accept_serialization:
        if deposit.kind is DepositKind.ZIP:
            types = _ZIP_TYPES
        elif str(deposit.source).lower().endswith((".gz", ".tgz")):
            types = _TGZ_TYPES
        else:
            types = _TAR_TYPES
        if not types & set(profile.accept_serialization):
            return [make("PROF-E018", str(deposit.source), kind=deposit.kind.value,
                         accepted=", ".join(profile.accept_serialization), profile=who)]
    return []


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


@dataclass(frozen=True, slots=True)
class ProfileChoice:
    """Where a deposit's profile comes from: `--profile FILE`, `profiles.dir`,
    `profiles.by_organization` (see `find_profile`)."""

    explicit: Profile | None = None
    directory: Path | None = None
    by_organization: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[Finding, ...] = ()  # the given profile could not be read (PROF-E001)


def profile_findings(deposit: Deposit, choice: ProfileChoice | None) -> list[Finding]:
    """Choosing the deposit's profile and checking it: what validate and ingest both report."""
    if choice is None:
        return []
    if choice.problems:
        return list(choice.problems)
    profile, found = find_profile(deposit, explicit=choice.explicit,
                                  directory=choice.directory,
                                  by_organization=choice.by_organization)
    if profile is not None:
        found += check_bag(profile, deposit)
    return found

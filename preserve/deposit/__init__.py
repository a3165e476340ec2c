"""Reading deposits safely: BagIt bags (RFC 8493, 1.0 and 0.97), zip/tar bags, plain folders.

`open_deposit` reads the structure (lstat listing, tag files) and returns a `Deposit` with
structural findings; `check_payload` compares digests the caller computed in one read of
each payload file. bagit-python is not used here: it is unsafe on hostile input.
"""

from preserve.deposit.opening import WorkDirNotEmpty, open_deposit
from preserve.deposit.payload_check import check_payload, required_algorithms
from preserve.deposit.profile import (
    Profile,
    ProfileChoice,
    profile_findings,
    read_profile_file,
)
from preserve.deposit.tagfiles import format_manifest_line, format_tag_file
from preserve.deposit.values import Deposit, DepositKind, Limits, PayloadEntry, TagEntry
from preserve.safeio import open_regular

__all__ = [
    "Deposit",
    "DepositKind",
    "Limits",
    "PayloadEntry",
    "Profile",
    "ProfileChoice",
    "TagEntry",
    "WorkDirNotEmpty",
    "check_payload",
    "format_manifest_line",
    "format_tag_file",
    "open_deposit",
    "open_regular",
    "profile_findings",
    "read_profile_file",
    "required_algorithms",
]

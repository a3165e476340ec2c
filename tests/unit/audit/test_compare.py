"""The verdict on one copy from four sources (preserve/audit/compare.py), through the stream
seam a storage backend uses (issue 18: any disagreement names which sides agree)."""

from __future__ import annotations

import hashlib
import io

from preserve.audit.compare import Expected, check_copy

GOOD = b"the original page\n"
BAD = b"a forged page\n"


def _digests(data: bytes) -> tuple[str, str]:
    return hashlib.sha512(data).hexdigest(), hashlib.sha256(data).hexdigest()


def _expected(catalog: bytes = GOOD, inventory: bytes | None = GOOD, bag: bytes | None = GOOD,
              readable: bool = True) -> Expected:
    s512, s256 = _digests(catalog)
    return Expected(size=len(catalog), sha512=s512, sha256=s256, inventory_readable=readable,
                    inventory_sha512=_digests(inventory)[0] if inventory else None,
                    inventory_sha256=_digests(inventory)[1] if inventory else None,
                    bag_sha512=_digests(bag)[0] if bag else None)


def test_all_four_agree():
    verdict = check_copy(io.BytesIO(GOOD), _expected())
    assert (verdict.code, verdict.outcome, verdict.status) == (None, "pass", "ok")


def test_everything_rewritten_but_the_bag_manifest():
    verdict = check_copy(io.BytesIO(BAD), _expected(catalog=BAD, inventory=BAD, bag=GOOD))
    assert verdict.code == "AUD-E013" and verdict.damaged and verdict.status == "damaged"
    bad, good = _digests(BAD)[0][:16], _digests(GOOD)[0][:16]
    assert f"file and catalog and inventory agree on sha512 {bad}" in verdict.detail
    assert f"bag manifest says sha512 {good}" in verdict.detail


def test_only_the_bag_manifest_differs():
    verdict = check_copy(io.BytesIO(GOOD), _expected(bag=BAD))
    assert verdict.code == "AUD-E013" and "bag manifest says" in verdict.detail


def test_three_way_codes_are_kept():
    assert check_copy(io.BytesIO(BAD), _expected()).code == "AUD-E001"
    assert check_copy(io.BytesIO(GOOD), _expected(inventory=BAD)).code == "AUD-E003"
    assert check_copy(io.BytesIO(GOOD), _expected(catalog=BAD, bag=None)).code == "AUD-E002"
    assert check_copy(io.BytesIO(BAD), _expected(inventory=b"third\n", bag=None)).code == \
        "AUD-E004"
    # An untrusted inventory is not compared (AUD-E005 reports it for the object).
    assert check_copy(io.BytesIO(GOOD), _expected(inventory=BAD, readable=False)).code is None


def test_bytes_are_counted_as_they_stream():
    seen = []
    check_copy(io.BytesIO(GOOD * 1000), _expected(catalog=GOOD * 1000, inventory=GOOD * 1000,
                                                  bag=GOOD * 1000), seen.append)
    assert sum(seen) == len(GOOD) * 1000

"""`preserve check [--repair]`: reconcile staging, storage and catalog after a crash or an
operator's mistake (issue 6, item 3; DESIGN.md, "Rules").

`find_inconsistencies` (scan.py) only looks; `repair` (repair.py) acts on what it found, each
action logged as one PREMIS event; `verify_object` (verify.py) is the full validation an
object passes before the catalog adopts it. A workflow: adapters and core only.
"""

from preserve.check.lock import CheckRunning, check_lock
from preserve.check.repair import repair
from preserve.check.report import Action, CheckPlan, CheckReport, Inconsistency, Kind, Plan
from preserve.check.scan import find_inconsistencies
from preserve.check.verify import ObjectInvalid, payload_fingerprint, verify_object

__all__ = ["Action", "CheckPlan", "CheckReport", "CheckRunning", "Inconsistency", "Kind",
           "ObjectInvalid", "Plan", "check_lock", "find_inconsistencies", "payload_fingerprint",
           "repair", "verify_object"]

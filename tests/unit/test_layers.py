"""The import rules of DESIGN.md "Layers", checked on the source.

core (model, checksums, errors, findings, names, safeio, lazy, units): standard library only;
adapters (deposit, metadata, storage, catalog, formats): core only, never each other;
workflows (ingest, audit, check, export, replicate, repair, deaccession, home): adapters and core, never
the CLI, never each other;
jobs (the queue, issue 14): above the workflows, whose functions its jobs call; below the
CLI; no workflow imports it;
lxml/xmlschema only in metadata/, SQLAlchemy/alembic only in catalog/, typer/rich/click only in cli/,
pygfried only in formats/, boto3/botocore only in storage/, procrastinate only in jobs/,
bagit nowhere in the package (it is a test oracle);
web (issue 15): a presentation layer beside the CLI, starlette/jinja2/babel only there.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "preserve"
CORE = {"model", "checksums", "errors", "findings", "names", "safeio", "lazy", "units"}
ADAPTERS = {"deposit", "metadata", "storage", "catalog", "formats"}
THIRD_PARTY_HOME = {"lxml": "metadata", "xmlschema": "metadata", "sqlalchemy": "catalog",
                    "alembic": "catalog", "typer": "cli", "rich": "cli", "click": "cli",
                    "pygfried": "formats", "boto3": "storage", "botocore": "storage",
                    "procrastinate": "jobs", "starlette": "web", "jinja2": "web",
                    "babel": "web", "markupsafe": "web", "argon2": "accounts"}
#: The orchestration layer between the CLI and the workflows (preserve/jobs).
ORCHESTRATION = {"jobs"}
#: The service layer (issue 15): above workflows and jobs, below the CLI and the web app.
SERVICE = {"service"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def unit_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.name != "__init__.py" else ""


def workflow_units() -> set[str]:
    """Every top-level package of preserve that is neither core, adapter, CLI nor home."""
    return {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()
            and p.name not in ADAPTERS | ORCHESTRATION | SERVICE | {"cli", "web"}}


def test_the_workflow_rule_knows_every_workflow():
    assert {"ingest", "audit", "check", "export", "replicate", "repair",
            "deaccession"} <= workflow_units()


def test_import_rules():
    workflows = workflow_units()
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        unit = unit_of(path)
        for name in imports(path):
            top = name.split(".")[0]
            if top == "preserve":
                parts = name.split(".")
                target = parts[1] if len(parts) > 1 else ""
                if unit in CORE and target not in CORE | {""}:
                    problems.append(f"{path}: core imports {name}")
                if unit in ADAPTERS and target in ADAPTERS and target != unit:
                    problems.append(f"{path}: adapter {unit} imports adapter {target}")
                if unit in ADAPTERS | CORE and target in {"ingest", "home", "cli"}:
                    problems.append(f"{path}: {unit} imports the upper layer {name}")
                if unit not in {"cli", "__main__"} and target == "cli":
                    problems.append(f"{path}: imports the CLI")
                # Workflows (ingest, audit, check, export, replicate, repair, and any package
                # that is not core, adapter, CLI or the home) never import each other: what
                # two of them share belongs in an adapter or the core.
                if (unit in workflows and target in workflows and target != unit):
                    problems.append(f"{path}: workflow {unit} imports workflow {target}")
                # The web app (issue 15) is a presentation layer beside the CLI: only the
                # CLI's `serve` command builds it, and it never imports the CLI (rule above).
                if target == "web" and unit not in {"web", "cli"}:
                    problems.append(f"{path}: only the CLI's serve command uses the web app")
                if target in ORCHESTRATION and unit not in ORCHESTRATION | {"cli"}:
                    problems.append(f"{path}: only the CLI uses the job queue ({name})")
                if target in SERVICE and unit not in SERVICE | {"cli", "web"}:
                    problems.append(f"{path}: only the CLI and the web app use the service ({name})")
                if unit == "web" and target == "cli":
                    problems.append(f"{path}: the web app imports the CLI")
            elif top in THIRD_PARTY_HOME and THIRD_PARTY_HOME[top] != unit:
                problems.append(f"{path}: {top} belongs in {THIRD_PARTY_HOME[top]}/")
            elif top == "bagit":
                problems.append(f"{path}: bagit is a test oracle, not a dependency")
            elif unit in CORE and top not in sys.stdlib_module_names and top != "__future__":
                problems.append(f"{path}: core imports third-party {name}")
    assert problems == []

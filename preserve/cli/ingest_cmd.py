"""`preserve ingest PATH`: validate a deposit and store it as a package (or a new version)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import (
    AppState,
    existing_metadata_file,
    existing_path,
    state,
    utf8_text,
)
from preserve.errors import DepositRejected, ExitCode, UsageError
from preserve.names import escape_name


def ingest(
    ctx: typer.Context,
    path: Path = typer.Argument(
        ..., callback=existing_path,
        help="A bag directory, a .zip/.tar/.tar.gz bag, or a plain folder."),
    package_id: str = typer.Option(None, "--id", callback=utf8_text, help="Identifier for the new package "
                                   "(default: a new urn:uuid)."),
    as_version_of: str = typer.Option(None, "--as-version-of", callback=utf8_text, metavar="ID",
                                      help="Store the deposit as the next version of package ID."),
    allow_unchanged: bool = typer.Option(False, "--allow-unchanged",
                                         help="With --as-version-of: store the deposit even if "
                                              "its payload equals the newest version's "
                                              "(refused otherwise, ING-E009)."),
    allow_deaccessioned_id: bool = typer.Option(
        False, "--allow-deaccessioned-id",
        help="Accept an External-Identifier that a deaccessioned package held (refused "
             "otherwise, ING-E010); the deposit becomes a new package."),
    no_replicate: bool = typer.Option(False, "--no-replicate",
                                      help="Do not copy the new version to the other storage "
                                           "locations now; `preserve replicate` does it later."),
    metadata: Path = typer.Option(
        None, "--metadata", callback=existing_metadata_file, metavar="FILE",
        help="Descriptive metadata for the package, used instead of the deposit's own: a "
             "descriptive CSV (docs/metadata.md), a Dublin Core or a MODS 3 XML file; kept "
             "in the version as metadata/description/."),
    batch: bool = typer.Option(
        False, "--batch", help="PATH is a folder of deposits: ingest each (folders, zips, "
        "tars at its top level; hidden ones ignored) as its own attempt, then a summary "
        "(docs/batch.md). The exit code is the worst one."),
    profile: Path = typer.Option(
        None, "--profile", metavar="FILE", callback=existing_path,
        help="Check the bag against this BagIt profile (JSON) instead of the one "
             "profiles.dir finds for it (docs/profiles.md)."),
    move: bool = typer.Option(
        False, "--move", help="Consume the deposit: its payload files are renamed into the "
        "new version instead of copied (the deposit must be on the repository's filesystem, "
        "its files owned by this user, one link each). It is removed only after the version "
        "is stored and recorded; on any failure it is put back as it was. A zip or tar is "
        "deleted after success (docs/move.md)."),
    defer: str = typer.Option(None, "--defer", metavar="identify,replicate",
                              help="Leave work to `preserve worker` (PostgreSQL catalogs): "
                                   "identify = store without PRONOM identification (the "
                                   "version's METS carries no PRONOM ids) and queue a job "
                                   "that records the formats in the catalog and one format "
                                   "identification event; replicate = queue the replication "
                                   "instead of copying now."),
) -> None:
    """Ingest a deposit into the repository."""
    # Imported here, not at the top: every command's module is loaded at start-up (see
    # preserve/cli/__init__.py), and only this command needs these.
    from preserve.ingest import IngestOptions, ingest_deposit
    app = state(ctx)
    home = app.home()
    if as_version_of is not None and package_id is not None and package_id != as_version_of:
        raise UsageError(detail=f"--id {package_id!r} and --as-version-of {as_version_of!r} "
                         "name different packages: a new version keeps its package's id; give "
                         "only --as-version-of")
    if allow_unchanged and as_version_of is None:
        raise UsageError(detail="--allow-unchanged goes with --as-version-of ID")
    deferred = _deferred(defer)
    conninfo = app.queue_conninfo("ingest --defer") if deferred else None
    if "replicate" in deferred and no_replicate:
        raise UsageError(detail="--defer replicate and --no-replicate contradict each other: "
                         "give one")
    options = IngestOptions(package_id=package_id, as_version_of=as_version_of,
                            allow_unchanged=allow_unchanged,
                            allow_deaccessioned_id=allow_deaccessioned_id,
                            workers=app.workers(), limits=app.limits(),
                            schemas=app.schemas(),
                            schemas_required=app.settings()["schemas.required"],
                            identify_formats="identify" not in deferred, move=move,
                            metadata=metadata, profiles=app.profiles(profile))
    if batch:
        if deferred:
            raise UsageError(detail="--batch cannot be combined with --defer")
        raise typer.Exit(run_batch(app, home, path, options))
    with app.open_catalog() as catalog:
        try:
            with render.progress_bar("ingesting", not app.quiet) as progress:
                result = ingest_deposit(home, catalog, path, options, progress)
        except DepositRejected as caught:
            # `caught` is unbound when the except block ends; the text renderer keeps its own.
            rejected = caught
            rejected_document = {
                "package_id": None, "version": None, "files": 0, "bytes": 0,
                "rejected": True, "findings": [f.as_dict() for f in rejected.findings]}

            def rejected_text(d: dict[str, Any]) -> None:
                render.findings_text(d["findings"])
                # The deposit's path is the user's, but may hold control characters.
                raw = str(rejected.fields["path"])
                render.stderr.print(rejected.message.replace(raw, escape_name(raw)), markup=False)

            render.emit(rejected_document, app.json, rejected_text)
            raise typer.Exit(ExitCode.DEPOSIT_REJECTED) from None
    document: dict[str, Any] = {**result.as_dict(), "rejected": False,
                                "findings": [f.as_dict() for f in result.findings]}
    if conninfo is not None:
        document["deferred"] = _enqueue_deferred(app, conninfo, deferred, result.package_id,
                                                 result.version)

    def text(d: dict[str, Any]) -> None:
        render.findings_text(d["findings"])
        render.line(f"ingested {escape_name(str(path))} as {d['package_id']} v{d['version']}: "
                    f"{d['files']} files, {d['bytes']} bytes")
        for job in d.get("deferred", []):
            render.line(job["note"])

    from preserve.cli.replicate_cmd import emit_and_replicate
    code = emit_and_replicate(app, document, text, result.package_id, result.version,
                              replicate_now=not no_replicate and "replicate" not in deferred)
    if code:
        raise typer.Exit(code)
    if result.findings:
        raise typer.Exit(ExitCode.WARNINGS)


def run_batch(app: AppState, home: Any, directory: Path, options: Any) -> int:
    """`ingest --batch DIR` (and `watch`): one line per deposit as it ends, then the summary
    table (or one JSON document); returns the worst exit code."""
    from preserve.ingest.batch import DepositOutcome, ingest_batch
    if not directory.is_dir():
        raise UsageError(detail=f"--batch needs a folder of deposits; {escape_name(str(directory))} "
                         "is not one")

    def each(outcome: DepositOutcome) -> None:
        if not app.json:
            render_outcome(outcome.as_dict())

    with app.open_catalog() as catalog:
        report = ingest_batch(home, catalog, directory, options, on_each=each)
    document = report.as_dict()

    def text(d: dict[str, Any]) -> None:
        t = d["totals"]
        render.line(f"{t['deposits']} deposits: {t['ingested']} ingested, {t['rejected']} "
                    f"rejected, {t['failed']} failed; {t['files']} files, {t['bytes']} bytes")

    render.emit(document, app.json, text)
    return report.exit_code


def render_outcome(d: dict[str, Any]) -> None:
    """One deposit's line of a batch or watch: status, name, package or first error."""
    name = escape_name(d["name"])
    if d["status"] == "ingested":
        render.line(f"ingested  {name} -> {d['package_id']} v{d['version']} ({d['files']} "
                    f"files, {d['bytes']} bytes, {len(d['findings'])} warnings)")
        return
    errors = [f["code"] for f in d["findings"] if f["severity"] == "error"]
    why = ", ".join(errors) if errors else (d["error"] or "")
    render.line(f"{d['status']:<9} {name}: {escape_name(why)} (exit {d['exit_code']})")


DEFERRABLE = ("identify", "replicate")


def _deferred(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    chosen = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [v for v in chosen if v not in DEFERRABLE]
    if unknown or not chosen:
        raise typer.BadParameter(f"cannot defer {', '.join(unknown) or 'nothing'}; give "
                                 "identify, replicate or both (comma-separated)",
                                 param_hint="--defer")
    return chosen


def _enqueue_deferred(app: AppState, conninfo: str, deferred: tuple[str, ...],
                      package_id: str, version: int) -> list[dict[str, Any]]:
    """Queue the deferred work of a committed version; what was queued, with a note."""
    from preserve.jobs.queue import enqueue_identification, enqueue_replication
    queued: list[dict[str, Any]] = []
    if "identify" in deferred:
        made = enqueue_identification(conninfo, package_id, version)
        queued.append({"job": "identify", **made.as_dict(), "note": (
            f"PRONOM identification deferred to a queued job: the METS stored in "
            f"v{version} carries no PRONOM ids; the job records the formats in the catalog "
            "and a format identification event (`preserve jobs` follows it)")})
    if "replicate" in deferred and app.settings()["replication.copies"] > 1:
        made = enqueue_replication(conninfo, [package_id])
        queued.append({"job": "replicate", **made.as_dict(), "note": (
            "replication to the other locations queued (`preserve jobs` follows it)")})
    return queued

"""`preserve locations [add NAME …]`: the storage locations that hold copies (issue 13).

`preserve locations` lists each configured location with its kind, where it is, whether it
answers now (a probe writes, reads back and removes a small file outside the OCFL tree), and
the verified copies and bytes the catalog says it holds. `locations add` checks a new location
is reachable and writable, makes it an OCFL storage root, registers it in the catalog, and
only then appends its table to preserve.toml. Credentials are never written: they come from
PRESERVE_LOCATION_<NAME>_ACCESS_KEY / _SECRET_KEY or boto3's own chain.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from preserve import settings as settings_mod
from preserve.cli import render
from preserve.cli.context import state
from preserve.errors import ExitCode, PreserveError

locations_app = typer.Typer(
    name="locations", invoke_without_command=True, no_args_is_help=False,
    help="List the storage locations (kind, where, reachable, copies, bytes), or add one.")


@locations_app.callback()
def list_locations(ctx: typer.Context) -> None:
    """List every storage location with its kind, reachability, copies held and bytes."""
    if ctx.invoked_subcommand is not None:
        return
    app = state(ctx)
    locations = app.locations()
    with app.open_catalog() as catalog:
        held = {h.name: h for h in catalog.location_holdings()}
    rows = []
    for location in locations:
        try:
            location.probe()
            reachable, problem = True, ""
        except PreserveError as error:
            reachable, problem = False, error.message
        h = held.get(location.name)
        rows.append({"name": location.name, "kind": location.kind, "where": location.describe(),
                     "reachable": reachable, "problem": problem,
                     "copies": h.copies if h else 0, "bytes": h.bytes if h else 0,
                     "damaged": h.damaged if h else 0, "missing": h.missing if h else 0})
    document = {"locations": rows,
                "replication_copies": app.settings()["replication.copies"]}

    def text(d: dict[str, Any]) -> None:
        for r in d["locations"]:
            state_word = "reachable" if r["reachable"] else "UNREACHABLE"
            problems = "".join(f", {r[k]} {k}" for k in ("damaged", "missing") if r[k])
            render.line(f"{r['name']}  {r['kind']}  {r['where']}  {state_word}  "
                        f"{r['copies']} copies, {r['bytes']} bytes{problems}")
            if r["problem"]:
                render.line(f"  {r['problem']}")
        render.line(f"replication.copies = {d['replication_copies']}")

    render.emit(document, app.json, text)
    if not all(r["reachable"] for r in rows):
        raise typer.Exit(ExitCode.STORAGE)


@locations_app.command("add")
def add_location(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A name for the location (lower-case letters, "
                               "digits, - and _)."),
    kind: str = typer.Option(..., "--kind", help="local (a directory on a disk or mount) or "
                             "s3 (an S3-compatible bucket)."),
    path: Path = typer.Option(None, "--path", help="kind local: the directory of the OCFL "
                              "storage root (made if absent)."),
    endpoint: str = typer.Option(None, "--endpoint", help="kind s3: the endpoint URL "
                                 "(omit for AWS S3)."),
    bucket: str = typer.Option(None, "--bucket", help="kind s3: the bucket (made if absent)."),
    prefix: str = typer.Option("", "--prefix", help="kind s3: the key prefix of the OCFL "
                               "root, e.g. ocfl/."),
    region: str = typer.Option("", "--region", help="kind s3: the region (e.g. us-east-1)."),
) -> None:
    """Add a storage location after checking it is reachable and writable."""
    from preserve.storage import replica
    from preserve.storage.configured import check_name, open_location, parse_table
    app = state(ctx)
    home = app.home()
    check_name(name)
    table = {"kind": kind}
    if kind == "local":
        if path is None:
            raise typer.BadParameter("a local location needs --path DIR", param_hint="--path")
        table["path"] = str(path.absolute())
    elif kind == "s3":
        if not bucket:
            raise typer.BadParameter("an s3 location needs --bucket NAME", param_hint="--bucket")
        table.update({k: v for k, v in (("endpoint", endpoint or ""), ("bucket", bucket),
                                        ("prefix", prefix), ("region", region)) if v})
    config = parse_table(name, table, "the command line")
    if any(c.name == name for c in app.location_configs()):
        raise typer.BadParameter(f"a location named {name!r} exists already", param_hint="NAME")
    credentials: tuple[str | None, str | None] = (None, None)
    if kind == "s3":
        from preserve.storage.s3 import credential_variables
        access, secret = credential_variables(name)
        credentials = (os.environ.get(access), os.environ.get(secret))
    location = open_location(config, home_root=home.ocfl, credentials=credentials)
    if kind == "local":
        try:
            Path(config.path).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise typer.BadParameter(f"cannot create {config.path}: {exc.strerror}",
                                     param_hint="--path") from None
    else:
        location.create_bucket_if_missing()  # type: ignore[attr-defined]
    location.probe()
    replica.ensure_root(location)
    with app.open_catalog() as catalog:
        catalog.ensure_location(name, location.describe())
    settings_mod.add_location(app.repo, config)
    document = {"name": name, "kind": kind, "where": location.describe(), "added": True}
    render.emit(document, app.json,
                lambda d: render.line(f"added location {d['name']} ({d['kind']}, {d['where']}); "
                                      "`preserve replicate` copies packages there"))

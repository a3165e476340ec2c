"""`preserve watch DIR`: ingest each deposit dropped into DIR once it has settled (docs/batch.md)."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import typer

from preserve.cli import render
from preserve.cli.context import state
from preserve.errors import UsageError


def watch(
    ctx: typer.Context,
    directory: Path = typer.Argument(..., help="The drop folder (done/, failed/ and "
                                     ".processing/ are made inside it)."),
    once: bool = typer.Option(False, "--once", help="One pass (look, wait --settle, take what "
                              "did not change), then exit: for a systemd timer or cron."),
    interval: float = typer.Option(10.0, "--interval", min=0.1, metavar="S",
                                   help="Seconds between passes."),
    settle: float = typer.Option(30.0, "--settle", min=0.0, metavar="S",
                                 help="A deposit is taken once its sizes and mtimes have not "
                                 "changed for this many seconds."),
) -> None:
    """Watch a drop folder: ingest each new deposit once it stops changing, then move it to
    done/ or failed/ beside NAME.report.json. Stops cleanly on SIGTERM/SIGINT."""
    from preserve.cli.ingest_cmd import render_outcome
    from preserve.ingest import IngestOptions
    from preserve.ingest.watch import Watcher
    app = state(ctx)
    if not directory.is_dir():
        raise UsageError(detail=f"{directory} is not a folder to watch")
    home = app.home()
    options = IngestOptions(workers=app.workers(), limits=app.limits(), schemas=app.schemas(),
                            schemas_required=app.settings()["schemas.required"],
                            profiles=app.profiles())
    worst = 0
    with app.open_catalog() as catalog:
        watcher = Watcher(home, catalog, directory.absolute(), options, settle=settle,
                          on_each=lambda o: render_outcome(o.as_dict()))

        def stop(signum: int, frame: FrameType | None) -> None:
            # The ingest under way finishes; no new one starts.
            render.stderr.print(f"stopping ({signal.Signals(signum).name})", markup=False)
            watcher.stop.set()

        previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            if once:
                outcomes = watcher.run_single()
                worst = max((o.exit_code for o in outcomes), default=0)
            else:
                watcher.run(interval)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    raise typer.Exit(worst)

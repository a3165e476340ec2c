"""The `preserve` command line (DESIGN.md, "Command line").

`preserve [--repo DIR] [--json] [-v|-q] COMMAND`: global options come before the command, or
after it (`preserve list --json` is read as `preserve --json list`; see hoist_global_options).
The CLI is thin: it parses, calls one library function, renders. `main()` is the one place
errors become exit codes: a PreserveError exits with its own code and message; a usage error
with 2; Ctrl-C with 130; anything else is a bug and exits 3.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path

import click
import typer

from preserve import __version__
from preserve.cli import render

# Every command's module is imported here, so each keeps its heavy imports (SQLAlchemy,
# Alembic, the workflows) inside its function: start-up stays cheap for every command.
from preserve.cli.audit_cmd import audit
from preserve.cli.check_cmd import check
from preserve.cli.context import (
    AppState,
    acting_person_of_command,
    configure_logging,
    repo_from,
)
from preserve.cli.db_cmd import db_app
from preserve.cli.deaccession_cmd import deaccession_app
from preserve.cli.deposits_cmd import deposits
from preserve.cli.describe_cmd import describe
from preserve.cli.export_cmd import export
from preserve.cli.find_cmd import find
from preserve.cli.get_cmd import get
from preserve.cli.ingest_cmd import ingest
from preserve.cli.init_cmd import init
from preserve.cli.jobs_cmd import jobs_app
from preserve.cli.list_cmd import list_packages
from preserve.cli.locations_cmd import locations_app
from preserve.cli.log_cmd import log_app
from preserve.cli.repair_cmd import repair
from preserve.cli.replicate_cmd import replicate
from preserve.cli.report_cmd import report
from preserve.cli.rights_cmd import rights
from preserve.cli.schemas_cmd import schemas_app
from preserve.cli.serve_cmd import serve
from preserve.cli.show_cmd import show
from preserve.cli.users_cmd import tokens_app, users_app
from preserve.cli.validate_cmd import validate
from preserve.cli.watch_cmd import watch
from preserve.cli.worker_cmd import worker
from preserve.errors import ExitCode, PreserveError
from preserve.model import acting_as

log = logging.getLogger(__name__)

app = typer.Typer(
    name="preserve",
    help="A preservation repository: validate and ingest deposits into OCFL storage with "
         "METS/PREMIS metadata and an SQL audit log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        render.line(f"preserve {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    ctx: typer.Context,
    repo: Path = typer.Option(None, "--repo", metavar="DIR",
                              help="Repository home (env PRESERVE_REPO, default ./storage)."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON document on stdout."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-vv: debug)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors; no progress bars."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    verbosity = -1 if quiet else verbose
    configure_logging(verbosity)
    render.quiet = quiet and not as_json  # --json always prints its one document
    ctx.obj = AppState(repo=repo_from(repo), json=as_json, verbosity=verbosity)


app.command("init")(init)
app.command("validate")(validate)
app.command("ingest")(ingest)
app.command("watch")(watch)
app.command("report")(report)
app.command("list")(list_packages)
app.command("show")(show)
app.command("describe")(describe)
app.command("rights")(rights)
app.add_typer(log_app, name="log")
app.add_typer(db_app, name="db")
app.add_typer(schemas_app, name="schemas")
app.command("audit")(audit)
app.command("export")(export)
app.command("get")(get)
app.command("find")(find)
app.command("check")(check)
app.command("deposits")(deposits)
app.add_typer(locations_app, name="locations")
app.command("replicate")(replicate)
app.command("repair")(repair)
app.command("worker")(worker)
app.command("serve")(serve)
app.add_typer(jobs_app, name="jobs")
app.add_typer(deaccession_app, name="deaccession")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")


def _wants_json(argv: list[str]) -> bool:
    """Whether --json was given among the global options (before the command)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--json":
            return True
        elif arg == "--repo":
            skip = True
        elif not arg.startswith("-"):
            return False
    return False


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `preserve` console script."""
    args = sys.argv[1:] if argv is None else list(argv)
    code = run(args)
    sys.exit(code)


#: Global options a user may also give after the command (`preserve list --json`): they are
#: moved in front of it. `--version` is not among them (show and export have their own).
_GLOBAL_FLAGS = frozenset({"--json", "-q", "--quiet", "-v", "-vv", "-vvv", "--verbose"})
_GLOBAL_WITH_VALUE = frozenset({"--repo"})


def hoist_global_options(args: list[str]) -> list[str]:
    """`preserve COMMAND … --json --repo R …` as `preserve --json --repo R COMMAND …` (issue 11:
    global options after the command work). Nothing after `--` is touched."""
    command_at = None
    i = 0
    while i < len(args):
        token = args[i]
        if token in _GLOBAL_WITH_VALUE:
            i += 2
            continue
        if not token.startswith("-"):
            command_at = i
            break
        i += 1
    if command_at is None:
        return list(args)
    front, rest, moved = list(args[:command_at]), [], []
    i = command_at
    while i < len(args):
        token = args[i]
        if token == "--":
            rest.extend(args[i:])
            break
        if token in _GLOBAL_FLAGS:
            moved.append(token)
        elif token in _GLOBAL_WITH_VALUE and i + 1 < len(args):
            moved.extend(args[i:i + 2])
            i += 1
        elif token.split("=", 1)[0] in _GLOBAL_WITH_VALUE and "=" in token:
            moved.append(token)
        else:
            rest.append(token)
        i += 1
    return front + moved + rest


def run(args: list[str]) -> int:
    """Run the CLI with `args`; return the exit code (never raises for user errors)."""
    args = hoist_global_options(args)
    command = _command()
    try:
        # Every event this command records names the operating-system user beside the
        # software (issue 15, "who did what").
        with acting_as(acting_person_of_command()):
            result = command.main(args=args, prog_name="preserve", standalone_mode=False)
        return int(result) if isinstance(result, int) else ExitCode.OK
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE
    except (click.exceptions.Abort, KeyboardInterrupt):
        render.stderr.print("interrupted", markup=False)
        return ExitCode.INTERRUPTED
    except PreserveError as exc:
        _report_error(args, exc.message, exc.exit_code)
        return exc.exit_code
    except Exception as exc:  # a bug in preserve, not the user's mistake
        log.debug("internal error", exc_info=True)
        _report_error(args, f"internal error: {type(exc).__name__}: {exc}. This is a bug in preserve "
                      "(run with -vv for details); nothing was committed.", ExitCode.INTERNAL)
        return ExitCode.INTERNAL


@functools.cache
def _command() -> click.Command:
    """The click command built from the typer app: once per process (tests run many)."""
    return typer.main.get_command(app)


def _report_error(args: list[str], message: str, code: int) -> None:
    if _wants_json(args):
        sys.stdout.write(json.dumps({"error": message, "exit_code": int(code)}, ensure_ascii=False) + "\n")
    render.stderr.print(f"error: {message}", markup=False)

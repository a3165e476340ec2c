"""`preserve users …` and `preserve tokens …`: the accounts of the web app and API (issue 15,
docs/web.md "Accounts").

Passwords are asked on the terminal twice, hidden, or read as one line from standard input
with `--password-stdin` (for scripts: never as an argument, which `ps` would show). A token
is printed once, when it is made; the catalog keeps only its sha256.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from preserve.cli import render
from preserve.cli.context import state, utf8_text
from preserve.findings import finding

users_app = typer.Typer(help="Accounts of the web app and API: viewer, archivist, admin.")
tokens_app = typer.Typer(help="API tokens of accounts (Authorization: Bearer TOKEN).")

ROLE_HELP = "viewer (reads), archivist (also uploads, ingests, exports, audits, repairs), admin"


def _password(from_stdin: bool) -> str:
    from preserve.accounts import AccountRefused
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise AccountRefused(finding("ACC-E010"))
        return password
    if not sys.stdin.isatty():
        raise AccountRefused(finding("ACC-E010"))
    first = typer.prompt("password", hide_input=True)
    second = typer.prompt("the same password again", hide_input=True)
    if first != second:
        raise AccountRefused(finding("ACC-E009"))
    return str(first)


def _user_text(d: dict[str, Any]) -> None:
    render.line(f"{d['name']}  {d['role']}" + ("  (disabled)" if d["disabled"] else "")
                + f"  since {d['created_at']}")


@users_app.command("add")
def add(ctx: typer.Context,
        name: str = typer.Argument(..., callback=utf8_text),
        role: str = typer.Option(..., "--role", help=ROLE_HELP),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="Read the password from standard input.")
        ) -> None:
    """Add an account."""
    from preserve.accounts import add_user
    app = state(ctx)
    password = _password(password_stdin)
    with app.open_catalog() as catalog:
        user = add_user(catalog, name, role, password)
    render.emit(user.as_dict(), app.json, lambda d: render.line(
        f"added account {d['name']} ({d['role']})"))


@users_app.command("passwd")
def passwd(ctx: typer.Context,
           name: str = typer.Argument(..., callback=utf8_text),
           password_stdin: bool = typer.Option(False, "--password-stdin",
                                               help="Read the password from standard input.")
           ) -> None:
    """Set an account's password (its web sessions end)."""
    from preserve.accounts import set_password
    app = state(ctx)
    password = _password(password_stdin)
    with app.open_catalog() as catalog:
        user = set_password(catalog, name, password)
    render.emit(user.as_dict(), app.json, lambda d: render.line(
        f"new password set for {d['name']}; its web sessions ended"))


@users_app.command("role")
def role(ctx: typer.Context, name: str = typer.Argument(..., callback=utf8_text),
         new_role: str = typer.Argument(..., metavar="ROLE", help=ROLE_HELP)) -> None:
    """Change an account's role."""
    from preserve.accounts import set_role
    app = state(ctx)
    with app.open_catalog() as catalog:
        user = set_role(catalog, name, new_role)
    render.emit(user.as_dict(), app.json, _user_text)


@users_app.command("disable")
def disable(ctx: typer.Context, name: str = typer.Argument(..., callback=utf8_text)) -> None:
    """Disable an account: its sessions end and its tokens stop working. Accounts are never
    deleted, as events name them."""
    _set_disabled(ctx, name, True)


@users_app.command("enable")
def enable(ctx: typer.Context, name: str = typer.Argument(..., callback=utf8_text)) -> None:
    """Enable a disabled account again."""
    _set_disabled(ctx, name, False)


def _set_disabled(ctx: typer.Context, name: str, disabled: bool) -> None:
    from preserve.accounts import set_disabled
    app = state(ctx)
    with app.open_catalog() as catalog:
        user = set_disabled(catalog, name, disabled)
    render.emit(user.as_dict(), app.json, _user_text)


@users_app.command("list")
def list_users(ctx: typer.Context) -> None:
    """Every account with its role."""
    app = state(ctx)
    with app.open_catalog() as catalog:
        users = [u.as_dict() for u in catalog.users()]

    def text(d: dict[str, Any]) -> None:
        if not d["users"]:
            render.line("no accounts yet: `preserve users add NAME --role admin`")
        for user in d["users"]:
            _user_text(user)

    render.emit({"users": users}, app.json, text)


@tokens_app.command("create")
def create(ctx: typer.Context, name: str = typer.Argument(..., callback=utf8_text),
           label: str = typer.Option("", "--label", callback=utf8_text,
                                     help="What the token is for.")) -> None:
    """Make an API token for an account; it is printed once and never shown again."""
    from preserve.accounts import create_token
    app = state(ctx)
    with app.open_catalog() as catalog:
        token = create_token(catalog, name, label)
    render.emit({"token": token.secret, "id": token.id, "user": token.user,
                 "label": token.label}, app.json,
                lambda d: render.line(f"{d['token']}\n(token {d['id']} of {d['user']}: shown "
                                      "once, keep it now)"))


@tokens_app.command("list")
def list_tokens(ctx: typer.Context,
                name: str = typer.Argument(None, callback=utf8_text,
                                           help="Only this account's tokens.")) -> None:
    """API tokens (never their secrets), revoked ones included."""
    from preserve.accounts import tokens
    app = state(ctx)
    with app.open_catalog() as catalog:
        found = [t.as_dict() for t in tokens(catalog, name)]

    def text(d: dict[str, Any]) -> None:
        for t in d["tokens"]:
            render.line(f"{t['id']}  {t['user']}  {t['label'] or '-'}  made {t['created_at']}"
                        f"  last used {t['last_used_at'] or 'never'}"
                        + (f"  REVOKED {t['revoked_at']}" if t["revoked_at"] else ""))

    render.emit({"tokens": found}, app.json, text)


@tokens_app.command("revoke")
def revoke(ctx: typer.Context, token_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Revoke an API token at once."""
    from preserve.accounts import revoke_token
    app = state(ctx)
    with app.open_catalog() as catalog:
        revoke_token(catalog, token_id)
    render.emit({"revoked": token_id}, app.json,
                lambda d: render.line(f"token {d['revoked']} revoked"))

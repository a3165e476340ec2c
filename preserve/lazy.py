"""Package exports loaded on first use (PEP 562), for the workflow packages the CLI imports.

The CLI imports every command's package at start-up but runs one command; loading every
module behind them (SQLAlchemy, Alembic, lxml) costs a third of a second that
`preserve validate` never needs. Standard library only (core).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The module `__getattr__` of `package`: `exports` maps each name to its module."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__

from tests.cli.conftest import (  # noqa: F401  (the real CLI and an initialised home)
    any_repo,
    cli,
    repo,
)

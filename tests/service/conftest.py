from tests.cli.conftest import cli, repo  # noqa: F401  (the real CLI and an initialised home)

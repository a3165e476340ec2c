from tests.cli.conftest import cli, repo  # noqa: F401  (the CLI fixtures, shared)

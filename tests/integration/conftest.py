from tests.cli.conftest import cli, repo  # noqa: F401  (shared fixtures)

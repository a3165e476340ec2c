from __future__ import annotations

import tomllib

import pytest

from preserve import settings
from preserve.errors import ConfigurationError


def test_layering_defaults_file_env_flags(tmp_path):
    (tmp_path / "preserve.toml").write_text('[ingest]\nworkers = 3\n', encoding="utf-8")
    values = settings.load(tmp_path, environ={})
    assert values["ingest.workers"] == 3
    assert values["limits.max_ratio"] == 1000.0  # default
    values = settings.load(tmp_path, environ={"PRESERVE_WORKERS": "5"})
    assert values["ingest.workers"] == 5
    values = settings.load(tmp_path, environ={"PRESERVE_WORKERS": "5"},
                           overrides={"ingest.workers": 7})
    assert values["ingest.workers"] == 7


@pytest.mark.parametrize("text", ['[ingest]\nworkers = "many"\n', "[nope]\nx = 1\n", "not toml ["])
def test_bad_settings_are_configuration_errors(tmp_path, text):
    (tmp_path / "preserve.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError):
        settings.load(tmp_path, environ={})


def test_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigurationError, match="PRESERVE_WORKERS"):
        settings.load(tmp_path, environ={"PRESERVE_WORKERS": "many"})


def test_rendered_file_round_trips(tmp_path):
    values = settings.load(tmp_path, environ={}, overrides={"schemas.dir": 'C:\\x "y"'})
    text = settings.render_toml(values)
    parsed = tomllib.loads(text)
    assert parsed["schemas"]["dir"] == 'C:\\x "y"'
    (tmp_path / "preserve.toml").write_text(text, encoding="utf-8")
    assert settings.load(tmp_path, environ={}) == values

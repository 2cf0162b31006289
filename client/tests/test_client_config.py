"""Configuration: arguments over the environment over the stored file; the file readable by its
owner only; missing settings said plainly; the command line's own refusals."""

from __future__ import annotations

import stat

import pytest
from steward_client.cli import main
from steward_client.config import (
    config_path,
    read_config_file,
    settings_resolve,
    write_config_file,
)
from steward_client.errors import ConfigurationError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("STEWARD_URL", "STEWARD_TOKEN", "STEWARD_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STEWARD_CONFIG_DIR", str(tmp_path / "cfg"))


def test_the_stored_file_is_private_and_read_back(tmp_path):
    path = write_config_file({"url": "https://s.example.com", "token": "stw_x"})
    assert path == config_path() == tmp_path / "cfg" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.chmod(0o644)
    write_config_file({"url": "https://s.example.com", "token": "stw_y"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a loosened file is tightened again
    assert read_config_file()["token"] == "stw_y"


def test_arguments_win_over_the_environment_which_wins_over_the_file(monkeypatch):
    write_config_file({"url": "https://file.example.com", "token": "stw_file"})
    assert settings_resolve().url == "https://file.example.com"
    monkeypatch.setenv("STEWARD_URL", "https://env.example.com/")
    monkeypatch.setenv("STEWARD_TOKEN", "stw_env")
    resolved = settings_resolve()
    assert (resolved.url, resolved.token) == ("https://env.example.com", "stw_env")
    assert resolved.api == "https://env.example.com/api/v1/"
    assert settings_resolve(url="https://arg.example.com", token="stw_arg").token == "stw_arg"
    assert resolved.verify is True  # TLS verification is on unless a CA bundle is named


def test_a_ca_bundle_is_used_for_verification(tmp_path, monkeypatch):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("STEWARD_CA_BUNDLE", str(bundle))
    resolved = settings_resolve(url="https://s.example.com", token="stw")
    assert resolved.verify == str(bundle)
    with pytest.raises(ConfigurationError, match="does not exist"):
        settings_resolve(url="https://s.example.com", token="stw", ca_bundle=str(tmp_path / "no"))


def test_missing_or_wrong_settings_are_said():
    with pytest.raises(ConfigurationError, match="steward login"):
        settings_resolve()
    with pytest.raises(ConfigurationError, match="API token"):
        settings_resolve(url="https://s.example.com")
    with pytest.raises(ConfigurationError, match="https://"):
        settings_resolve(url="s.example.com", token="stw")


def test_the_command_says_what_is_missing_without_a_traceback(capsys):
    assert main(["whoami"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("steward: error: No Steward server configured")
    assert "Traceback" not in err


def test_a_malformed_option_value_is_said(capsys, monkeypatch):
    monkeypatch.setenv("STEWARD_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("STEWARD_TOKEN", "stw")
    assert main(["versions", "register", "m", "--metric", "auc=high", "--no-capture"]) == 1
    assert "--metric auc: 'high' is not a number" in capsys.readouterr().err


def test_a_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["versions", "frobnicate"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err

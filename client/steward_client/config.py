"""Where the client finds its server and token: arguments, then ``STEWARD_URL`` /
``STEWARD_TOKEN`` / ``STEWARD_CA_BUNDLE`` from the environment, then the file ``steward login``
wrote in the user's configuration directory (readable by its owner only)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from steward_client.errors import ConfigurationError

FILE_NAME = "config.json"


def config_dir() -> Path:
    """The user's configuration directory for Steward: ``STEWARD_CONFIG_DIR`` if set, else
    the platform's (XDG on Linux, Application Support on macOS, %APPDATA% on Windows)."""
    explicit = os.environ.get("STEWARD_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "steward"


def config_path() -> Path:
    return config_dir() / FILE_NAME


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings. ``verify`` is True (the system's CAs) or the path of a
    CA bundle; TLS verification is never turned off by configuration."""

    url: str
    token: str
    verify: bool | str = True
    source: str = ""

    @property
    def api(self) -> str:
        return self.url.rstrip("/") + "/api/v1/"


def read_config_file(path: Path | None = None) -> dict:
    path = path or config_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"Cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} is not a JSON object; run `steward login` again.")
    return data


def write_config_file(values: dict, path: Path | None = None) -> Path:
    """Write the configuration so that only its owner can read it (mode 0600, in a 0700
    directory), without a moment where the token is readable by others."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle, indent=2)
    os.chmod(temporary, 0o600)  # an existing file kept its old mode through O_CREAT
    os.replace(temporary, path)
    return path


def _validated_url(url: str, origin: str) -> str:
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"The Steward URL from {origin} must start with https:// or http:// ({url!r})."
        )
    return url.rstrip("/")


def settings_resolve(
    url: str | None = None, token: str | None = None, ca_bundle: str | None = None
) -> Settings:
    """Arguments win over the environment, which wins over the configuration file."""
    stored = read_config_file()
    env = os.environ
    chosen_url, url_origin = next(
        (
            (value, origin)
            for value, origin in (
                (url, "the arguments"),
                (env.get("STEWARD_URL"), "STEWARD_URL"),
                (stored.get("url"), str(config_path())),
            )
            if value
        ),
        (None, ""),
    )
    chosen_token = token or env.get("STEWARD_TOKEN") or stored.get("token")
    if not chosen_url:
        raise ConfigurationError(
            "No Steward server configured: set STEWARD_URL and STEWARD_TOKEN, or run "
            "`steward login`."
        )
    if not chosen_token:
        raise ConfigurationError(
            "No API token: set STEWARD_TOKEN, or run `steward login` (create a token at "
            "/account/tokens/ in Steward)."
        )
    bundle = ca_bundle or env.get("STEWARD_CA_BUNDLE") or stored.get("ca_bundle")
    if bundle and not Path(bundle).expanduser().exists():
        raise ConfigurationError(f"The CA bundle {bundle} does not exist.")
    return Settings(
        url=_validated_url(chosen_url, url_origin),
        token=chosen_token.strip(),
        verify=str(Path(bundle).expanduser()) if bundle else True,
        source=url_origin,
    )

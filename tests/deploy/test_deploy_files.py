"""deploy/: the systemd units pass `systemd-analyze verify` and run exactly the commands `make
serve` runs (which tests/deploy/test_serve.py runs for real); the environment file lists every
variable the settings read and is, filled in, a production configuration that passes Django's
deployment check."""

from __future__ import annotations

import configparser
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.processes import SERVE, production_env
from tests.services import service_missing

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = {
    "web": DEPLOY / "systemd" / "steward-web.service",
    "worker": DEPLOY / "systemd" / "steward-worker.service",
    "beat": DEPLOY / "systemd" / "steward-beat.service",
}
ENV_EXAMPLE = DEPLOY / "steward.env.example"
# Where the units expect things on the host, and where they are in this checkout.
INSTALLED, VENV_BIN, STATE = "/srv/steward", Path(sys.executable).parent, "/var/lib/steward"


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read(path)
    return parser


def serve_commands(var_dir: str) -> dict[str, list[str]]:
    """scripts/serve.py's commands, loaded the way the supervisor tests load it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("serve_commands", SERVE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        children = module.children_from_environment({}, Path(var_dir))
    finally:
        del sys.modules[spec.name]
    return {child.name: child.command for child in children}


@pytest.mark.parametrize("name", sorted(UNITS))
def test_each_unit_runs_what_make_serve_runs(name):
    service = unit(UNITS[name])["Service"]
    assert service["User"] == service["Group"] == "steward"
    assert service["WorkingDirectory"] == INSTALLED
    assert service["EnvironmentFile"] == "/etc/steward/steward.env"
    assert service["StateDirectory"] == "steward"  # /var/lib/steward, STEWARD_VAR_DIR
    command = shlex.split(service["ExecStart"].replace("${WORKER_CONCURRENCY}", ""))
    command[0] = command[0].replace(f"{INSTALLED}/.venv/bin", str(VENV_BIN))
    assert command == serve_commands(STATE)[name]
    assert Path(command[0]).is_file()


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    """Copies pointed at this checkout (the units name /srv/steward, absent here)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        service_missing("needs systemd-analyze (the systemd package)")
    for path in UNITS.values():
        (tmp_path / path.name).write_text(path.read_text().replace(INSTALLED, str(ROOT)))
    done = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # verify only warns about an unknown or misspelt setting: there must be no warning at all.
    assert done.stdout == done.stderr == ""
    broken = tmp_path / "steward-web.service"
    broken.write_text(broken.read_text().replace("Type=notify", "Type=notfy"))
    done = subprocess.run([analyze, "verify", str(broken)], capture_output=True, text=True)
    assert "notfy" in done.stderr  # the check above would have seen a mistake


def env_example() -> dict[str, str]:
    """The example's variables, set or shown commented out with their default."""
    found = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^(# )?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match[2]] = match[3] if match[1] is None else None
    return found


def test_the_environment_file_lists_every_variable():
    read_by_settings = set(
        re.findall(r'"((?:STEWARD_[A-Z0-9_]+)|DATABASE_URL|REDIS_URL)"', _config_sources())
    )
    read_by_serving = {"HOST", "PORT", "WEB_WORKERS", "WEB_THREADS", "WEB_TIMEOUT"}
    read_by_serving |= {"WEB_MAX_REQUESTS"}
    read_by_serving |= {"WORKER_CONCURRENCY", "STEWARD_AUDIT_KEY_FILE"}
    listed = set(env_example())
    missing = (read_by_settings | read_by_serving) - listed
    assert not missing, f"add to deploy/steward.env.example: {sorted(missing)}"
    # And nothing that nothing reads (a typo there would silently do nothing).
    assert not listed - read_by_settings - read_by_serving


def _config_sources() -> str:
    return "".join(path.read_text() for path in (ROOT / "config").glob("*.py"))


def test_the_filled_in_environment_file_passes_the_deployment_check(tmp_path):
    values = {k: v for k, v in env_example().items() if v is not None}
    values |= {
        "STEWARD_SECRET_KEY": secrets.token_urlsafe(48),
        "STEWARD_AUDIT_KEY": secrets.token_urlsafe(48),
        "STEWARD_VAR_DIR": str(tmp_path),  # not /var/lib/steward on this machine
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(**values),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)" in done.stdout

"""scripts/serve.py's supervisor with stand-in children (no database, no broker): a child that
dies stops the others with a non-zero exit; SIGTERM stops all; a child that ignores SIGTERM is
killed after the stop timeout; a killed supervisor takes its children with it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.deploy.processes import SERVE, pid_alive
from tests.deploy.proxy_client import wait_until

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True);"
    " time.sleep(120)",
]


def supervise(children: dict[str, list[str]], tmp_path: Path, stop_timeout: float = 10):
    """Run serve.py's Supervisor over ``children`` in a process of its own."""
    code = textwrap.dedent(
        f"""
        import importlib.util, os, sys
        spec = importlib.util.spec_from_file_location("serve", {str(SERVE)!r})
        serve = sys.modules["serve"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(serve)
        children = [serve.Child(name, command) for name, command in {children!r}.items()]
        sys.exit(serve.Supervisor(children, stop_timeout={stop_timeout}).run(dict(os.environ)))
        """
    )
    log = tmp_path / "supervisor.log"
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code], stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    return process, log


def started_pids(process: subprocess.Popen, log: Path) -> dict[str, int]:
    def started():
        assert process.poll() is None or "serve: started" in log.read_text(), log.read_text()
        return re.search(r"serve: started (.*); Ctrl-C", log.read_text())

    found = wait_until(started, timeout=30, what="the supervisor starting its children")
    return {m[0]: int(m[1]) for m in re.findall(r"(\w+) \(pid (\d+)\)", found[1])}


def test_a_child_that_dies_stops_the_others_with_its_exit_code(tmp_path):
    process, log = supervise(
        {
            "web": SLEEPER,
            "worker": [sys.executable, "-c", "import time; time.sleep(1); raise SystemExit(3)"],
            "beat": SLEEPER,
        },
        tmp_path,
    )
    pids = started_pids(process, log)
    assert process.wait(30) == 3
    assert not [name for name, pid in pids.items() if pid_alive(pid)]
    assert "serve: worker exited with code 3; stopping the others" in log.read_text()


def test_a_child_killed_by_a_signal_is_a_failure_too(tmp_path):
    process, log = supervise({"web": SLEEPER, "worker": SLEEPER}, tmp_path)
    pids = started_pids(process, log)
    os.kill(pids["worker"], signal.SIGKILL)
    assert process.wait(30) == 1
    assert not pid_alive(pids["web"])


def test_sigterm_stops_every_child_and_exits_zero(tmp_path):
    process, log = supervise({"web": SLEEPER, "worker": SLEEPER, "beat": SLEEPER}, tmp_path)
    pids = started_pids(process, log)
    assert all(pid_alive(pid) for pid in pids.values())
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert not [name for name, pid in pids.items() if pid_alive(pid)]


def test_a_child_ignoring_sigterm_is_killed_after_the_stop_timeout(tmp_path):
    process, log = supervise({"web": SLEEPER, "stuck": STUBBORN}, tmp_path, stop_timeout=1)
    pids = started_pids(process, log)
    wait_until(lambda: "stuck | up" in log.read_text(), timeout=30, what="the child's output")
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 0
    assert time.monotonic() - started < 20
    assert not pid_alive(pids["stuck"])
    assert "stuck did not stop within 1s: killing it" in log.read_text()


def test_children_do_not_outlive_a_killed_supervisor(tmp_path):
    """Even SIGKILL of the supervisor leaves no server holding the port (PR_SET_PDEATHSIG)."""
    process, log = supervise({"web": SLEEPER, "worker": SLEEPER}, tmp_path)
    pids = started_pids(process, log)
    process.kill()
    process.wait(10)
    wait_until(
        lambda: not any(pid_alive(pid) for pid in pids.values()),
        timeout=10,
        what="the children ending with their parent",
    )

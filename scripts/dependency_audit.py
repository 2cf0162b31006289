"""Known vulnerabilities in the installed Python packages (pip-audit over this environment).

Fails (exit 1) when the vulnerability service names a vulnerability in an installed package that
is not in IGNORED below. When the service cannot be reached, or answers for no package at all
(a mirror without vulnerability data answers "not found" for every release), it says why and
exits 0: an audit that could not look is reported as skipped, never as clean.

Usage: python scripts/dependency_audit.py [--service pypi|osv]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

# Vulnerability id -> why it does not apply to Steward. Each entry names the package and says why
# it cannot be upgraded yet or why the vulnerable code is never reached; remove it once fixed.
IGNORED: dict[str, str] = {}

# What a traceback from pip-audit says when the network, not the audit, failed.
_UNREACHABLE = (
    "ConnectionError",
    "NameResolutionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "timed out",
    "ProxyError",
    "SSLError",
)


def pip_audit(service: str) -> tuple[int, dict | None, str]:
    """Run pip-audit on this interpreter's environment; (exit code, its JSON report, stderr)."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "audit.json"
        done = subprocess.run(  # noqa: S603 - fixed argv
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--local",
                "--vulnerability-service",
                service,
                "--progress-spinner",
                "off",
                "--timeout",
                "15",
                "--format",
                "json",
                "--output",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        data = json.loads(report.read_text()) if report.exists() and report.stat().st_size else None
    return done.returncode, data, done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", default="pypi", choices=["pypi", "osv"])
    service = parser.parse_args().service

    code, data, stderr = pip_audit(service)
    if data is None:
        if any(marker in stderr for marker in _UNREACHABLE):
            last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
            print(f"dependency audit SKIPPED: the {service} vulnerability service is unreachable")
            print(f"  ({last[:300]})")
            return 0
        print(f"dependency audit FAILED: pip-audit exited {code} without a report:\n{stderr}")
        return 1

    dependencies = data.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = len(dependencies) - len(audited)
    if not audited:
        reason = dependencies[0]["skip_reason"] if dependencies else "no packages found"
        print(
            f"dependency audit SKIPPED: the {service} vulnerability service answered for none of "
            f"the {len(dependencies)} installed packages (e.g. {reason!r}); nothing was audited"
        )
        return 0

    found, ignored = [], []
    for dependency in audited:
        for vulnerability in dependency.get("vulns", []):
            line = (
                f"{dependency['name']} {dependency['version']}: {vulnerability['id']} "
                f"(fixed in {', '.join(vulnerability.get('fix_versions') or ['no release yet'])})"
            )
            if vulnerability["id"] in IGNORED or any(
                alias in IGNORED for alias in vulnerability.get("aliases", [])
            ):
                ignored.append(line)
            else:
                found.append(line)
    print(
        f"dependency audit: {len(audited)} packages audited against {service}, {skipped} not "
        f"known to it, {len(found)} vulnerabilities, {len(ignored)} ignored (see IGNORED)"
    )
    for line in ignored:
        print(f"  ignored: {line}")
    for line in found:
        print(f"  VULNERABLE: {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

"""``manage.py seed_demo``: load the demo users, teams, data and models (demo mode only)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create the demo users (password steward-demo), teams, datasets and scikit-learn models. "
        "Runs only with STEWARD_DEMO=true; running it again adds nothing."
    )

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "seed_demo runs only in demo mode: it creates users with a known password. "
                "Set STEWARD_DEMO=true for a demo instance; never on a real one."
            )
        try:
            from registry.demo import DEMO_PASSWORD, demo_seed
        except ImportError as exc:  # scikit-learn is the optional "demo" extra
            raise CommandError(
                f"The demo needs scikit-learn ({exc}). Install it: pip install -e '.[demo]'."
            ) from exc

        started = time.monotonic()
        report = demo_seed()
        if not report.created:
            self.stdout.write("Demo data already present; nothing to do.")
            return
        for item in report.skipped:
            self.stdout.write(f"already present, left as is: {item}")
        for version in report.versions:
            metrics = ", ".join(f"{name} {value:.3f}" for name, value in version.metrics.items())
            self.stdout.write(
                f"  {version.natural_key} ({version.params.get('estimator', '?')}): {metrics}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo seeded in {time.monotonic() - started:.1f} s: {len(report.created)} "
                f"new ({', '.join(report.created)}). Every demo user's password: {DEMO_PASSWORD}"
            )
        )

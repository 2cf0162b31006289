"""Install the documentation templates shipped in governance/doc_templates/."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from governance.services.documents import document_templates_install


class Command(BaseCommand):
    help = (
        "Install the shipped documentation templates that are missing; with --update, add a new "
        "version of those whose file changed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--update", action="store_true", help="Add changed files as versions.")

    def handle(self, *args, update: bool = False, **options) -> None:
        names = document_templates_install(actor=None, update=update)
        self.stdout.write(f"Installed: {', '.join(names)}" if names else "Up to date.")

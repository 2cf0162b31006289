"""The accounts under which Steward itself acts (e.g. monitoring flagging a version)."""

from __future__ import annotations

from accounts.models import User

MONITOR_USERNAME = "steward-monitor"


def system_user_monitor() -> User:
    """The account that signs monitoring's own decisions. It cannot log in (inactive, no
    usable password) and holds no role: it acts only through services that name it."""
    user, created = User.objects.get_or_create(
        username=MONITOR_USERNAME,
        defaults={"display_name": "Steward monitoring", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user

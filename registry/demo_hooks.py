"""Steps that later apps add to the demo seed.

``manage.py seed_demo`` builds the registry's part of the demo (people, data, models); apps
built on the registry (governance, monitoring) add theirs by registering a hook from their
``AppConfig.ready()``. A hook runs after the registry's part, is idempotent, and returns a
line for each thing it created (nothing when the demo is already complete).

This module lives outside ``registry.demo`` on purpose: that package imports scikit-learn (the
optional ``demo`` extra), and ``ready()`` must not."""

from __future__ import annotations

from collections.abc import Callable

DemoHook = Callable[[], list[str]]

_hooks: list[DemoHook] = []


def demo_hook_register(hook: DemoHook) -> None:
    """Run ``hook`` at the end of every demo seeding (once, however often it is registered)."""
    if hook not in _hooks:
        _hooks.append(hook)


def demo_hooks() -> list[DemoHook]:
    return list(_hooks)

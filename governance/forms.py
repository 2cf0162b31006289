"""Forms of the review console. They only parse what was posted; whether a decision or a note
is allowed, and whether a motivation is long enough, is the services' call, so the browser,
the API and the admin refuse the same things with the same words."""

from __future__ import annotations

from django import forms

from core.errors import InvalidInput
from governance.choices import Action, AnnotationKind
from governance.services.annotations import MAX_BODY

MAX_MOTIVATION = 10_000
# What a person writes in the thread; motivations belong to decisions.
THREAD_KINDS = (AnnotationKind.NOTE, AnnotationKind.QUESTION, AnnotationKind.FINDING)


# Decisions that end a version's road (or take it out of service): the browser form asks for an
# explicit confirmation before they are recorded.
DESTRUCTIVE_ACTIONS = frozenset({Action.REJECT, Action.DEPRECATE, Action.ARCHIVE})


class DecisionForm(forms.Form):
    action = forms.CharField(max_length=32, error_messages={"required": "Choose a decision."})
    motivation = forms.CharField(max_length=MAX_MOTIVATION, required=False, strip=True)
    confirm = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") in DESTRUCTIVE_ACTIONS and not data.get("confirm"):
            label = Action(data["action"]).label.lower()
            self.add_error(
                "confirm",
                f"Tick the confirmation to {label}: it cannot be undone from this page.",
            )
        return data


class AnnotationForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(kind.value, kind.label) for kind in THREAD_KINDS],
        required=False,
    )
    body = forms.CharField(max_length=MAX_BODY, required=False, strip=True)
    parent = forms.IntegerField(required=False, min_value=1)


def form_values(form: forms.Form) -> dict:
    """The form's cleaned values, or raise ``InvalidInput`` naming the fields it refused."""
    if form.is_valid():
        return form.cleaned_data
    errors = {field: [str(e) for e in messages] for field, messages in form.errors.items()}
    first = next(iter(errors.values()))[0]
    raise InvalidInput(first, field_errors=errors)


class AliasMoveForm(forms.Form):
    """Point an alias of a model at a version (``op=set``) or remove it (``op=remove``)."""

    op = forms.ChoiceField(choices=[("set", "Point at"), ("remove", "Remove")])
    alias = forms.CharField(
        max_length=255, strip=True, error_messages={"required": "Name the alias."}
    )
    version = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    motivation = forms.CharField(max_length=MAX_MOTIVATION, required=False, strip=True)

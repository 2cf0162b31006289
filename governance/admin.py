"""Governance in the admin console: policies (edited by administrators), decisions and
annotations (read-only records; annotations can be resolved), and the workflow's transitions as
actions on model versions.

Every transition action asks for a written motivation on an intermediate page, then calls
``version_transition`` for each selected version, exactly as the browser pages and the API do,
and reports which versions moved and which were refused, with the reasons."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import Truncator

from core.admin import ReadOnlyAdmin, ReadOnlyInline
from core.errors import StewardError
from governance import selectors, services, workflow
from governance.choices import Action
from governance.constants import MIN_MOTIVATION_LENGTH
from governance.models import Annotation, Decision, DocumentTemplate, Policy
from governance.services.documents import document_request
from registry.choices import RiskTier
from registry.models import ModelVersion

SUMMARY_LENGTH = 80

# --- Policies -------------------------------------------------------------------------------


class LinesField(forms.CharField):
    """A list of strings edited as a text area, one item per line."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 50})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class PolicyForm(forms.ModelForm):
    """The model's validators check every metric check and document name on save."""

    metric_checks = LinesField(
        required=False,
        help_text="One check per line on the version's recorded metrics, e.g. <code>auc >= "
        "0.80</code> (operators: >=, >, <=, <, ==, !=).",
    )
    required_documents = LinesField(
        required=False,
        help_text="One documentation template name per line; each must exist and be current "
        "before a version is submitted or approved.",
    )
    approval_documents = LinesField(
        required=False,
        help_text="One documentation template name per line; every section people write in "
        "it (the developers', the validators', the approvers') must be written before a "
        "version is approved.",
    )

    def _templates_known(self, names: list[str]) -> list[str]:
        known = set(DocumentTemplate.objects.filter(is_active=True).values_list("name", flat=True))
        unknown = [name for name in names if name not in known]
        if unknown:
            raise forms.ValidationError(
                f"Not a documentation template: {', '.join(unknown)}. "
                f"Templates: {', '.join(sorted(known)) or 'none installed'}."
            )
        return names

    def clean_required_documents(self) -> list[str]:
        return self._templates_known(self.cleaned_data["required_documents"])

    def clean_approval_documents(self) -> list[str]:
        return self._templates_known(self.cleaned_data["approval_documents"])

    class Meta:
        model = Policy
        fields = [
            "risk_tier",
            "description",
            "required_sign_offs",
            "metric_checks",
            "required_documents",
            "approval_documents",
            "revalidation_days",
            "block_on_open_findings",
        ]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    """One policy per risk tier. A policy is never deleted (the defaults would silently come
    back); one is added only for a tier that has none. Changes are recorded by auditlog and,
    with their before and after values, in the audit chain (``policy_save``)."""

    form = PolicyForm
    list_display = [
        "risk_tier",
        "required_sign_offs",
        "checks",
        "documents",
        "revalidation_days",
        "block_on_open_findings",
        "updated_at",
    ]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="Metric checks")
    def checks(self, policy: Policy) -> str:
        return ", ".join(policy.metric_checks) or "—"

    @admin.display(description="Required documents")
    def documents(self, policy: Policy) -> str:
        parts = []
        if policy.required_documents:
            parts.append("from submission: " + ", ".join(policy.required_documents))
        if policy.approval_documents:
            parts.append("written before approval: " + ", ".join(policy.approval_documents))
        return "; ".join(parts) or "—"

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "risk_tier"] if obj else self.readonly_fields

    def has_add_permission(self, request) -> bool:
        missing = Policy.objects.count() < len(RiskTier.values)
        return missing and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        # Through the service: the edit and its before/after go into the audit chain together.
        from governance.services.policy_edits import policy_save

        policy_save(actor=request.user, policy=obj)


# --- Decisions and annotations --------------------------------------------------------------


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """Decisions are written by the transition service only and never change."""

    list_display = ["created_at", "version", "action", "from_state", "to_state", "actor", "why"]
    list_filter = ["action", "to_state", "version__registered_model__risk_tier"]
    search_fields = ["version__registered_model__name", "actor__username", "motivation"]
    list_select_related = ["version__registered_model", "actor"]
    date_hierarchy = "created_at"

    @admin.display(description="Motivation")
    def why(self, decision: Decision) -> str:
        return Truncator(decision.motivation).chars(SUMMARY_LENGTH)


@admin.register(Annotation)
class AnnotationAdmin(ReadOnlyAdmin):
    """Annotations are written in the review console and the API; here they can be read and
    resolved (through the service, which checks the administrator may annotate the target)."""

    list_display = ["created_at", "kind", "target_label", "author", "is_open", "summary"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["body", "author__username"]
    list_select_related = ["author", "target_type", "resolved_by"]
    actions = ["resolve_selected"]

    @admin.display(description="On")
    def target_label(self, annotation: Annotation) -> str:
        return f"{annotation.target_type.name} {annotation.target_id}"

    @admin.display(description="Open", boolean=True)
    def is_open(self, annotation: Annotation) -> bool:
        return annotation.is_open

    @admin.display(description="Text")
    def summary(self, annotation: Annotation) -> str:
        return Truncator(annotation.body).chars(SUMMARY_LENGTH)

    @admin.action(description="Resolve the selected annotations…")
    def resolve_selected(self, request: HttpRequest, queryset: QuerySet[Annotation]):
        """Asks for the motivation (recorded as a reply in each thread), then resolves each
        annotation through the service, which decides who may (never the version's
        developer)."""
        return motivated_action_page(
            self,
            request,
            label="Resolve",
            action="resolve",
            admin_action="resolve_selected",
            rows=lambda: [
                (a, services.annotation_resolve_refusal(request.user, a) or "Ready.")
                for a in queryset.select_related("author", "target_type")
            ],
            apply=lambda motivation: self._resolve(request, queryset, motivation),
        )

    def _resolve(self, request: HttpRequest, queryset, motivation: str) -> None:
        resolved = 0
        for annotation in queryset:
            try:
                services.annotation_resolve(
                    actor=request.user, annotation=annotation, motivation=motivation
                )
            except StewardError as exc:
                self.message_user(request, f"{annotation}: {exc.message}", messages.WARNING)
            else:
                resolved += 1
        if resolved:
            self.message_user(request, f"{resolved} annotation(s) resolved.", messages.SUCCESS)


# --- Transitions as actions on model versions -----------------------------------------------

ADMIN_ACTIONS = (
    Action.SUBMIT,
    Action.CLAIM,
    Action.SIGN_OFF,
    Action.REQUEST_CHANGES,
    Action.REJECT,
    Action.REVISE,
    Action.APPROVE,
    Action.PROMOTE,
    Action.FLAG,
    Action.CLEAR_FLAG,
    Action.DEPRECATE,
    Action.ARCHIVE,
)


def transition_preview(user, version: ModelVersion, action: str) -> str:
    """What would happen to ``version`` if ``user`` took ``action`` now, in words."""
    if workflow.transition_for(version.status, action) is None:
        return f"Not possible from {version.get_status_display().lower()}."
    option = next((o for o in selectors.action_options(user, version) if o.action == action), None)
    if option is None:
        return "You do not hold the role for it: it will be refused."
    if not option.allowed:
        return "Blocked: " + "; ".join(g.reason for g in option.blocked_by)
    return "Ready."


def _transition_versions(model_admin, request, queryset, action: str, motivation: str) -> None:
    moved, refused = [], []
    for version in queryset.select_related("registered_model"):
        try:
            decision = services.version_transition(
                actor=request.user, version=version, action=action, motivation=motivation
            )
        except StewardError as exc:
            refused.append(f"{version.natural_key}: {exc.message}")
        else:
            moved.append(f"{version.natural_key} → {decision.get_to_state_display().lower()}")
    label = Action(action).label
    if moved:
        model_admin.message_user(
            request, f"{label}: recorded for {', '.join(moved)}.", messages.SUCCESS
        )
    for refusal in refused:
        model_admin.message_user(request, f"{label} refused for {refusal}", messages.WARNING)


def motivated_action_page(
    model_admin,
    request: HttpRequest,
    *,
    label: str,
    action: str,
    rows: Callable[[], list],
    apply: Callable[[str], None],
    admin_action: str = "",
) -> HttpResponse | None:
    """The confirmation step of an admin action that needs a written motivation: with a valid
    one posted, ``apply(motivation)`` runs and the list shows again with its messages (None);
    otherwise the page lists ``rows()`` (object, what will happen) and asks for it."""
    motivation = request.POST.get("motivation", "")
    error = ""
    if "apply" in request.POST:
        try:
            motivation = services.motivation_clean(motivation)
        except StewardError as exc:
            error = exc.message
        else:
            apply(motivation)
            return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{label}: give your motivation",
        "opts": model_admin.model._meta,
        "action": action,
        "admin_action": admin_action,
        "action_label": label,
        "rows": rows(),
        "motivation": motivation,
        "min_motivation": MIN_MOTIVATION_LENGTH,
        "error": error,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "governance/admin_transition.html", context)


def transition_action(action: str) -> Callable:
    """An admin action that asks for a motivation, then takes ``action`` on each version."""
    label = Action(action).label

    def take(model_admin, request: HttpRequest, queryset) -> HttpResponse | None:
        return motivated_action_page(
            model_admin,
            request,
            label=label,
            action=action,
            rows=lambda: [
                (v, transition_preview(request.user, v, action))
                for v in queryset.select_related("registered_model")
            ],
            apply=lambda motivation: _transition_versions(
                model_admin, request, queryset, action, motivation
            ),
        )

    take.__name__ = f"transition_{action}"
    return admin.action(description=f"{label}…")(take)


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = ["created_at", "action", "from_state", "to_state", "actor", "motivation"]
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = "decisions (the version's history)"


# The registry registers its read-only ModelVersion admin and may not import governance; the
# workflow's actions and the decision history are added here, to a subclass of that admin.
_RegistryModelVersionAdmin = type(admin.site._registry[ModelVersion])
admin.site.unregister(ModelVersion)


@admin.register(ModelVersion)
class GovernedModelVersionAdmin(_RegistryModelVersionAdmin):
    actions = [
        *(transition_action(action) for action in ADMIN_ACTIONS),
        "generate_model_cards",
    ]
    inlines = [*_RegistryModelVersionAdmin.inlines, DecisionInline]

    @admin.action(description="Generate the model card of the selected versions")
    def generate_model_cards(self, request, queryset):
        """Queue a model card for each version (through the documentation service, which
        checks the permission and returns the existing document when nothing changed)."""
        queued, refused = 0, []
        for version in queryset.select_related("registered_model"):
            try:
                document_request(actor=request.user, version=version, template_name="model-card")
                queued += 1
            except StewardError as exc:
                refused.append(f"{version}: {exc.message}")
        if queued:
            self.message_user(request, f"Model card requested for {queued} version(s).")
        for message in refused:
            self.message_user(request, message, messages.ERROR)


# Reclassification of registered models (an action on the registry's model admin).
import governance.admin_reclassify  # noqa: E402, F401

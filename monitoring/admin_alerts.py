"""Alerting in the admin console.

Channels and rules are saved through the services, which decide who may (managers of the
owning team, administrators) and check every target against the outbound policy; the forms ask
the same services first, so a refusal shows on the field instead of after the save. Alerts are
records: they are acknowledged or resolved by actions that ask for a note on an intermediate
page and call the services for each selected alert. Their events and deliveries are read-only."""

from __future__ import annotations

from functools import lru_cache

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template import engines

from accounts.access import team_scope
from accounts.choices import Verb
from core.admin import ReadOnlyAdmin, ReadOnlyInline
from core.errors import StewardError
from monitoring.models import Alert, AlertChannel, AlertDelivery, AlertEvent, AlertRule
from monitoring.permissions import (
    channel_target_for,
    channel_target_masked,
    may_manage_channels,
)
from monitoring.services import alerts as services

# --- Shared ---------------------------------------------------------------------------------


def form_errors_add(form: forms.Form, exc: StewardError) -> None:
    """Show a service's refusal on the form: on the fields it names, else above the form."""
    placed = False
    for field, errors in exc.field_errors.items():
        if field in form.fields:
            for error in errors:
                form.add_error(field, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class RequestFormMixin:
    """Hands the request to the admin's form, whose checks depend on who is saving."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class RequestForm(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, **inner)
                self.request = request

        return RequestForm


class ServiceSavedAdmin(RequestFormMixin, admin.ModelAdmin):
    """Saves go through ``call_service``; the many-to-many fields are the service's too."""

    def save_model(self, request, obj, form, change) -> None:
        try:
            saved = self.call_service(request, obj, form, change)
        except StewardError as exc:  # checked in the form already; kept as a message
            messages.error(request, exc.message)
            return
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def call_service(self, request, obj, form, change):
        raise NotImplementedError


# --- Channels --------------------------------------------------------------------------------


class AlertChannelForm(forms.ModelForm):
    class Meta:
        model = AlertChannel
        fields = ["owner_team", "name", "kind", "target", "enabled"]

    def clean(self):
        data = super().clean()
        team = data.get("owner_team") if self.instance.pk is None else self.instance.owner_team
        try:
            if team is not None:
                services.channel_manager_require(
                    self.request.user, team, existing=self.instance.pk is not None
                )
            if data.get("kind") and data.get("target"):
                data["target"] = services.channel_target_clean(data["kind"], data["target"])
        except StewardError as exc:
            form_errors_add(self, exc)
        return data


@admin.register(AlertChannel)
class AlertChannelAdmin(ServiceSavedAdmin):
    """The webhook signing secret is shown to superusers only (receivers need it to verify
    deliveries); it is generated, never typed in. The target (a Slack or webhook URL is a
    credential) is shown whole only to who manages the channel, masked to anyone else, and is
    not searchable (a search would reveal it a character at a time)."""

    form = AlertChannelForm
    list_filter = ["kind", "enabled", "owner_team"]
    search_fields = ["name", "owner_team__name"]
    list_select_related = ["owner_team", "created_by"]
    readonly_fields = ["created_by", "created_at"]

    def get_list_display(self, request):
        viewer = request.user  # a closure per request: the admin instance is shared

        @admin.display(description="Target")
        def target(channel: AlertChannel) -> str:
            return channel_target_for(viewer, channel)

        return ["name", "owner_team", "kind", target, "enabled", "created_by", "created_at"]

    @admin.display(description="Target")
    def target_masked(self, channel: AlertChannel) -> str:
        return channel_target_masked(channel.kind, channel.target)

    def _manages(self, request, obj) -> bool:
        return obj is None or may_manage_channels(request.user, obj.owner_team)

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if self._manages(request, obj):
            return fields
        shown = ["target_masked" if name == "target" else name for name in fields]
        return list(dict.fromkeys(shown))  # in the target's place, once

    def get_readonly_fields(self, request, obj=None):
        fields = [*self.readonly_fields, *(["owner_team"] if obj else [])]
        if not self._manages(request, obj):
            fields.append("target_masked")
        return [*fields, "signing_secret"] if request.user.is_superuser else fields

    def has_delete_permission(self, request, obj=None) -> bool:
        # A channel alerts were delivered to is part of their record: disable it instead.
        if obj is not None and obj.deliveries.exists():
            return False
        return super().has_delete_permission(request, obj)

    def call_service(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ("name", "kind", "target", "enabled")}
        if change:
            return services.alert_channel_update(actor=request.user, channel=obj, **fields)
        return services.alert_channel_create(
            actor=request.user, owner_team=form.cleaned_data["owner_team"], **fields
        )

    def delete_model(self, request, obj) -> None:
        services.alert_channel_delete(actor=request.user, channel=obj)

    def delete_queryset(self, request, queryset) -> None:
        for channel in queryset:
            services.alert_channel_delete(actor=request.user, channel=channel)


# --- Rules -----------------------------------------------------------------------------------


class ChannelChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, channel: AlertChannel) -> str:
        return f"{channel.owner_team.slug}: {channel.name} ({channel.get_kind_display()})"


class AlertRuleForm(forms.ModelForm):
    """Channels offered are the rule's team's (on a new rule: of the teams the user may
    deploy in); the service checks the rule as a whole."""

    channels = ChannelChoices(
        queryset=AlertChannel.objects.none(),
        required=False,
        widget=widgets.FilteredSelectMultiple("channels", is_stacked=False),
    )

    class Meta:
        model = AlertRule
        fields = [
            "name",
            "deployment",
            "registered_model",
            "check_kind",
            "kpi",
            "min_status",
            "health_below",
            "severity",
            "channels",
            "flag_version",
            "enabled",
        ]

    def channel_choices(self, user) -> QuerySet[AlertChannel]:
        channels = AlertChannel.objects.select_related("owner_team")
        rule = self.instance
        if rule.pk is not None:
            model = (
                rule.deployment.registered_model if rule.deployment_id else rule.registered_model
            )
            return channels.filter(owner_team_id=model.owner_team_id)
        scope = team_scope(user, Verb.DEPLOY)
        return channels if scope.everywhere else channels.filter(owner_team__in=scope.team_ids)

    def clean(self):
        data = super().clean()
        if self.errors:  # the service needs every field; the form's own errors come first
            return data
        rule = self.instance
        target = {
            "deployment": data.get("deployment") if rule.pk is None else rule.deployment,
            "registered_model": (
                data.get("registered_model") if rule.pk is None else rule.registered_model
            ),
        }
        values = {name: data.get(name) for name in services.RULE_FIELDS if name in data}
        try:
            services.alert_rule_validate(actor=self.request.user, **target, **values)
        except StewardError as exc:
            form_errors_add(self, exc)
        return data


@admin.register(AlertRule)
class AlertRuleAdmin(ServiceSavedAdmin):
    form = AlertRuleForm
    list_display = [
        "name",
        "watches",
        "check_kind",
        "kpi",
        "min_status",
        "health_below",
        "severity",
        "flag_version",
        "enabled",
    ]
    list_filter = ["check_kind", "severity", "enabled", "flag_version"]
    search_fields = ["name", "deployment__name", "registered_model__name"]
    list_select_related = ["deployment", "registered_model", "kpi"]
    readonly_fields = ["created_by", "created_at"]

    @admin.display(description="Watches")
    def watches(self, rule: AlertRule) -> str:
        if rule.deployment_id:
            return f"deployment {rule.deployment.name}"
        return f"every deployment of {rule.registered_model.name}"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class ChannelsForm(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, **inner)
                if "channels" in self.fields:
                    self.fields["channels"].queryset = self.channel_choices(request.user)

        return ChannelsForm

    def get_readonly_fields(self, request, obj=None):
        # What a rule watches is its identity: watch something else with a new rule.
        fixed = ["deployment", "registered_model"] if obj else []
        return [*self.readonly_fields, *fixed]

    def has_delete_permission(self, request, obj=None) -> bool:
        # A rule that opened alerts is kept with them: disable it instead.
        if obj is not None and obj.alerts.exists():
            return False
        return super().has_delete_permission(request, obj)

    def call_service(self, request, obj, form, change):
        data = form.cleaned_data
        values = {name: data[name] for name in services.RULE_FIELDS if name in data}
        if change:
            return services.alert_rule_update(actor=request.user, rule=obj, **values)
        return services.alert_rule_create(
            actor=request.user,
            deployment=data.get("deployment"),
            registered_model=data.get("registered_model"),
            **values,
        )

    def delete_model(self, request, obj) -> None:
        services.alert_rule_delete(actor=request.user, rule=obj)

    def delete_queryset(self, request, queryset) -> None:
        for rule in queryset:
            services.alert_rule_delete(actor=request.user, rule=rule)


# --- Alerts: acknowledge and resolve with a note ----------------------------------------------

NOTE_PAGE = """{% extends "admin/base_site.html" %}
{% load i18n l10n admin_urls static %}
{% block extrahead %}{{ block.super }}
  <script src="{% static 'admin/js/cancel.js' %}" async></script>
{% endblock %}
{% block breadcrumbs %}<div class="breadcrumbs">
  <a href="{% url 'admin:index' %}">{% translate 'Home' %}</a> &rsaquo;
  <a href="{% url opts|admin_urlname:'changelist' %}">{{ opts.verbose_name_plural|capfirst }}</a>
  &rsaquo; {{ action_label }}
</div>{% endblock %}
{% block content %}
<p>{{ action_label }} {{ alerts|length }} alert{{ alerts|length|pluralize }}. The note is kept
with the alert and in the audit trail.</p>
<ul>{% for alert in alerts %}
  <li>#{{ alert.pk }} {{ alert.title }} ({{ alert.get_state_display }})</li>
{% endfor %}</ul>
<form method="post">{% csrf_token %}
  {% for alert in alerts %}
    <input type="hidden" name="{{ checkbox_name }}" value="{{ alert.pk|unlocalize }}">
  {% endfor %}
  <input type="hidden" name="action" value="{{ action }}">
  {% if error %}<p class="errornote" role="alert">{{ error }}</p>{% endif %}
  <p><label for="id_note"><strong>Note</strong>
    {% if min_length %}(at least {{ min_length }} characters){% endif %}</label></p>
  <p><textarea id="id_note" name="note" rows="4" cols="80">{{ note }}</textarea></p>
  <div class="submit-row">
    <input type="submit" name="apply" class="default" value="{{ action_label }}">
    <a href="#" class="button cancel-link">{% translate "No, take me back" %}</a>
  </div>
</form>
{% endblock %}
"""


@lru_cache(maxsize=1)
def _note_page():
    return engines["django"].from_string(NOTE_PAGE)


def note_action(name: str, label: str, service, min_length: int = 0):
    """An admin action that asks for a note, then calls ``service`` for each selected alert
    and reports which were done and which refused, with the reasons."""

    def act(model_admin, request: HttpRequest, queryset) -> HttpResponse | None:
        note = request.POST.get("note", "").strip()
        error = ""
        if "apply" in request.POST:
            if len(note) >= min_length:
                _apply(model_admin, request, queryset, service, label, note)
                return None  # back to the list, with the messages
            error = f"Write a note of at least {min_length} characters."
        context = {
            **model_admin.admin_site.each_context(request),
            "title": f"{label}: add a note",
            "opts": model_admin.model._meta,
            "action": name,
            "action_label": label,
            "alerts": list(queryset.select_related("deployment")),
            "note": note,
            "min_length": min_length,
            "error": error,
            "checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return HttpResponse(_note_page().render(context, request))

    act.__name__ = name
    return admin.action(description=f"{label}…")(act)


def _apply(model_admin, request, queryset, service, label: str, note: str) -> None:
    done = []
    for alert in queryset:
        try:
            service(actor=request.user, alert=alert, note=note)
        except StewardError as exc:
            model_admin.message_user(request, f"#{alert.pk}: {exc.message}", messages.WARNING)
        else:
            done.append(f"#{alert.pk}")
    if done:
        model_admin.message_user(request, f"{label}: {', '.join(done)}.", messages.SUCCESS)


class EventInline(ReadOnlyInline):
    """The alert's life, one row per event, oldest first; written by the lifecycle service."""

    model = AlertEvent
    fields = ["at", "kind", "by", "detail"]
    readonly_fields = fields
    ordering = ["at", "id"]
    show_change_link = False  # the rows have no page of their own

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class DeliveryInline(ReadOnlyInline):
    model = AlertDelivery
    fields = ["channel", "event", "status", "attempts", "response_code", "error", "delivered_at"]
    readonly_fields = fields


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """Alerts are opened and resolved by the rules; people acknowledge and resolve them."""

    list_display = [
        "id",
        "title",
        "severity",
        "state",
        "deployment",
        "occurrences",
        "opened_at",
        "last_seen_at",
        "acknowledged_by",
        "resolved_by",
    ]
    list_filter = ["state", "severity", ("deployment", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "deployment__name", "rule__name"]
    list_select_related = ["deployment", "acknowledged_by", "resolved_by"]
    date_hierarchy = "opened_at"
    inlines = [EventInline, DeliveryInline]
    actions = [
        note_action("acknowledge_selected", "Acknowledge", services.alert_acknowledge),
        note_action(
            "resolve_selected",
            "Resolve",
            services.alert_resolve,
            min_length=services.MIN_NOTE_LENGTH,
        ),
    ]


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyAdmin):
    """Every delivery of an alert event to a channel, with its attempts and last error."""

    list_display = [
        "id",
        "alert",
        "channel",
        "event",
        "status",
        "attempts",
        "response_code",
        "last_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event", "channel__kind"]
    search_fields = ["alert__title", "channel__name", "error"]
    list_select_related = ["alert", "channel"]

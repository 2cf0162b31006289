"""Documentation templates in the admin console.

Saving a template never changes it in place: it adds a new version (documents keep pointing at
the version they were rendered from). Before saving, an administrator can preview the template
against a chosen model version ("Preview" button): the sections are rendered strictly, as the
version's owning team would see them, and syntax errors or unknown variables come back as form
errors, never as a crash. Every saved version is in the audit chain (through the service);
templates are never deleted. Generated documents and free-text sections are read-only records
here."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.safestring import mark_safe

from core.admin import ReadOnlyAdmin
from core.errors import StewardError
from core.markdown_text import markdown_html
from governance.documents.context import version_context
from governance.documents.render import markdown_preview
from governance.documents.sandbox import sections_check
from governance.models import DocumentTemplate, FreeTextSection, GeneratedDocument
from governance.services.documents import document_template_save
from registry import selectors

PREVIEW_BUTTON = "_preview"


class DocumentTemplateForm(forms.ModelForm):
    """Sections as JSON, checked on every save; an optional version to preview against."""

    sections = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "style": "font-family: monospace"}),
        help_text='An ordered list of {"key", "title", "body"} (a Django template producing '
        'Markdown) or {"key", "title", "free_text": true, "writer", "help"}, where writer is '
        "developer, validator or manager: the role that writes the section.",
    )
    preview_version = forms.CharField(
        required=False,
        help_text="A version to preview against, as <code>model-name/3</code>. With the "
        "Preview button nothing is saved.",
    )

    class Meta:
        model = DocumentTemplate
        fields = ["name", "title", "description", "sections", "is_active"]

    def __init__(self, *args, request: HttpRequest | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.preview_html = ""

    def clean(self):
        data = super().clean()
        sections = data.get("sections")
        if sections is None:
            return data
        errors = sections_check(sections)
        if errors:
            raise forms.ValidationError(errors)
        if data.get("preview_version"):
            self._preview(sections, data["preview_version"])
        if self.request is not None and PREVIEW_BUTTON in self.request.POST:
            raise forms.ValidationError("Preview only: nothing was saved.")
        return data

    def _preview(self, sections: list, key: str) -> None:
        name, _, number = key.strip().rpartition("/")
        try:
            version = selectors.model_version_get(self.request.user, name, int(number))
        except (StewardError, ValueError) as exc:
            raise forms.ValidationError({"preview_version": f"No such version: {exc}"}) from exc
        context = version_context(version, template_name=self.cleaned_data.get("name", ""))
        text, unknown = markdown_preview(sections=sections, context=context)
        # markdown_html sanitises with nh3; only that output is marked safe.
        self.preview_html = mark_safe(markdown_html(text))  # noqa: S308
        if unknown:
            raise forms.ValidationError(
                {"sections": [f"Unknown variable in {name}" for name in unknown]}
            )


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    form = DocumentTemplateForm
    list_display = ["name", "version", "title", "is_active", "created_by", "created_at"]
    list_filter = ["name", "is_active"]
    readonly_fields = ["version", "created_by", "created_at"]
    change_form_template = "admin/governance/documenttemplate/change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        form_class.base_fields["preview_version"] = DocumentTemplateForm.base_fields[
            "preview_version"
        ]

        class RequestForm(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, request=request, **inner)

        return RequestForm

    def get_fields(self, request, obj=None):
        return [*super().get_fields(request, obj), "preview_version"]

    def render_change_form(self, request, context, *args, **kwargs):
        form = context.get("adminform").form if context.get("adminform") else None
        context["preview_html"] = getattr(form, "preview_html", "")
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        """Every save is a new version, through the service."""
        try:
            saved = document_template_save(
                actor=request.user,
                name=form.cleaned_data["name"],
                title=form.cleaned_data["title"],
                sections=form.cleaned_data["sections"],
                description=form.cleaned_data.get("description", ""),
            )
        except StewardError as exc:  # checked in the form already; kept as a message
            messages.error(request, exc.message)
            return
        obj.pk, obj.version = saved.pk, saved.version
        messages.info(request, f"Saved as version {saved.version} of '{saved.name}'.")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Documents point at template versions and the audit trail names them: a template
        # version is a record, never deleted (a delete would also bypass the chain).
        return False


@admin.register(GeneratedDocument)
class GeneratedDocumentAdmin(ReadOnlyAdmin):
    list_display = ["id", "version", "template", "status", "requested_by", "created_at"]
    list_filter = ["status", "template__name"]
    exclude = ["html", "markdown", "inputs"]


@admin.register(FreeTextSection)
class FreeTextSectionAdmin(ReadOnlyAdmin):
    list_display = ["version", "template_name", "section_key", "written_by", "updated_at"]

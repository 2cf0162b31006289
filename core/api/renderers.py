"""The browsable API's HTML under the content security policy."""

from __future__ import annotations

from django.conf import settings
from rest_framework.renderers import BrowsableAPIRenderer


class StewardBrowsableAPIRenderer(BrowsableAPIRenderer):
    """DRF's browsable API, whose templates style a few elements inline (and the highlighted
    code in a <style> block): its HTML pages, and no other response, get the API docs' looser
    style policy (settings.API_DOCS_CSP). Scripts stay as strict as on every other page."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            # What django-csp's csp_replace decorator sets; its middleware reads it.
            response._csp_replace = settings.API_DOCS_CSP
        return super().render(data, accepted_media_type, renderer_context)

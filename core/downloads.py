"""The headers every file Steward hands out carries, set in one place.

A download is stored, user-influenced bytes (a model artifact, a rendered document, an export).
It must never run as a page of Steward's origin: it goes out as an attachment, browsers may not
sniff another type into it, and its own Content-Security-Policy forbids everything and sandboxes
it. The site-wide policy (django-csp) leaves a response alone when it already has the header, so
this per-response policy wins."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from django.http import HttpResponseBase

DOWNLOAD_CSP = "default-src 'none'; sandbox"

# Control, format (bidi overrides, zero-width joiners), surrogate, private-use, unassigned and
# line/paragraph separator characters: none belongs in a file name shown to a person.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_FILENAME = 150


def display_filename(name: str) -> str:
    """``name`` reduced to its last path component, without invisible or control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in base if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    return kept.strip(" .")[:MAX_FILENAME]


def content_disposition(name: str, fallback: str) -> str:
    """``attachment; filename="<ascii>"`` plus RFC 6266 ``filename*`` for a non-ASCII name.
    The quoted value holds only ``[A-Za-z0-9._-]``, so no quote, backslash, CR or LF can end
    the header or the parameter early."""
    readable = display_filename(name) or fallback
    folded = unicodedata.normalize("NFKD", readable).encode("ascii", "ignore").decode()
    ascii_name = _ASCII_UNSAFE.sub("_", folded).strip("._")[:MAX_FILENAME] or fallback
    header = f'attachment; filename="{ascii_name}"'
    if readable != ascii_name:
        header += f"; filename*=UTF-8''{quote(readable, safe='')}"
    return header


def mark_as_download(
    response: HttpResponseBase, filename: str, *, fallback: str = "download.bin"
) -> HttpResponseBase:
    """Set the attachment, no-sniff and restrictive CSP headers on ``response``."""
    response["Content-Disposition"] = content_disposition(filename, fallback)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    return response

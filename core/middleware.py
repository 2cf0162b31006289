"""Request guards that apply before any view runs."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render


class RejectNulBytesMiddleware:
    """PostgreSQL cannot store or compare text containing NUL, and no real name or search does.
    A request that carries one in its path or query string is refused with a 400 up front,
    instead of reaching the database as a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            message = "The address contains a NUL character."
            if request.path.startswith("/api/"):
                return JsonResponse({"message": message, "code": "invalid"}, status=400)
            return render(request, "400.html", {"message": message}, status=400)
        return self.get_response(request)

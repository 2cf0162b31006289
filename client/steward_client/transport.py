"""HTTP to Steward: the token, TLS verification, retries with backoff, Idempotency-Key, and
errors turned into :mod:`steward_client.errors`.

What is retried: answers 429, 502, 503 and 504 (waiting what ``Retry-After`` says, else an
exponential backoff with jitter) and connection errors. A request that is not safe to repeat
(a POST without an Idempotency-Key: a workflow decision) is retried only when the server
certainly did not act on it: a connection never made, 429 and 503. Creates carry an
Idempotency-Key (the same one on every attempt), so a create whose answer was lost is sent
again and Steward answers the first answer instead of making a second row."""

from __future__ import annotations

import email.utils
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from steward_client import __version__
from steward_client.config import Settings
from steward_client.errors import ConnectionFailed, api_error_class

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Certainly not acted upon: refused before the work (rate limit, database unreachable).
NOT_ACTED_STATUSES = frozenset({429, 503})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
IN_FLIGHT_CODE = "idempotency_key_in_flight"

Body = bytes | Callable[[], Iterable[bytes] | bytes] | None


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def retry_after_seconds(response: requests.Response) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _never_sent(exc: Exception) -> bool:
    """Whether a connection error happened before the request reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen = set()
    pending: list[Any] = [exc]
    while pending:
        item = pending.pop()
        if id(item) in seen or item is None:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError | ConnectionRefusedError):
            return True
        pending.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
        pending.extend(arg for arg in getattr(item, "args", ()) if isinstance(arg, BaseException))
    return False


class Transport:
    """One configured session to one Steward server."""

    def __init__(
        self,
        settings: Settings,
        *,
        max_retries: int | None = None,
        backoff: float | None = None,
        max_wait: float = 60.0,
        timeout: tuple[float, float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self.max_retries = (
            int(_env_float("STEWARD_MAX_RETRIES", 5)) if max_retries is None else max_retries
        )
        self.backoff = _env_float("STEWARD_RETRY_BACKOFF", 0.5) if backoff is None else backoff
        self.max_wait = max_wait
        self.timeout = timeout or (10.0, _env_float("STEWARD_TIMEOUT", 300.0))
        self.sleep = sleep
        self.session = requests.Session()
        self.session.verify = settings.verify
        self.session.headers["User-Agent"] = f"steward-client/{__version__}"
        self.session.headers["Accept"] = "application/json"
        self.attempts: list[tuple[str, str, int | str]] = []  # (method, url, status or error)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.settings.api + path.lstrip("/")

    def _wait(self, attempt: int, response: requests.Response | None = None) -> None:
        told = retry_after_seconds(response) if response is not None else None
        if told is None:
            told = min(self.max_wait, self.backoff * (2**attempt)) * (0.5 + random.random() / 2)  # noqa: S311
        self.sleep(min(told, self.max_wait))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        body: Body = None,
        headers: dict | None = None,
        idempotency_key: str | bool | None = None,
        auth: tuple[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send one request (with retries) and return the 2xx answer; raise an
        :class:`~steward_client.errors.APIError` for any other, or ConnectionFailed."""
        method = method.upper()
        url = self.url(path)
        headers = dict(headers or {})
        if auth is None:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        if idempotency_key is True:
            idempotency_key = str(uuid.uuid4())
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        safe = method in SAFE_METHODS or bool(idempotency_key)
        attempt = 0
        while True:
            data = body() if callable(body) else body
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=headers,
                    auth=auth,
                    # Given per request: a session's own verify loses to REQUESTS_CA_BUNDLE.
                    verify=self.settings.verify,
                    timeout=self.timeout,
                    stream=stream,
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                self.attempts.append((method, url, type(exc).__name__))
                retryable = not isinstance(exc, requests.exceptions.SSLError)  # will not heal
                if retryable and attempt < self.max_retries and (safe or _never_sent(exc)):
                    self._wait(attempt)
                    attempt += 1
                    continue
                raise ConnectionFailed(
                    f"Cannot reach Steward at {self.settings.url}: {_reason(exc)}"
                    + (f" (after {attempt + 1} attempts)" if attempt else "")
                ) from None
            self.attempts.append((method, url, response.status_code))
            if attempt < self.max_retries and self._should_retry(response, safe):
                self._wait(attempt, response)
                attempt += 1
                response.close()
                continue
            if response.status_code >= 400 or 300 <= response.status_code < 400:
                raise error_from_response(response)
            return response

    @staticmethod
    def _should_retry(response: requests.Response, safe: bool) -> bool:
        status = response.status_code
        if status == 409 and _error_code(response) == IN_FLIGHT_CODE:
            return True  # our own earlier attempt is still being served
        if status in NOT_ACTED_STATUSES:
            return True
        return safe and status in RETRY_STATUSES

    def json(self, method: str, path: str, **kwargs) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def paginate(self, path: str, params: dict | None = None, limit: int | None = None) -> Iterator:
        """Every row of a paginated list (page by page), up to ``limit``."""
        params = dict(params or {})
        params.setdefault("page_size", 200)
        page, yielded = 1, 0
        while True:
            data = self.json("GET", path, params={**params, "page": page})
            rows = data.get("results", []) if isinstance(data, dict) else data
            for row in rows:
                yield row
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            if not isinstance(data, dict) or not data.get("next"):
                return
            page += 1


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(exc, requests.exceptions.SSLError):
        return (
            "the server's TLS certificate could not be verified (give your CA bundle with "
            "STEWARD_CA_BUNDLE or `steward login --ca-bundle`)"
        )
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    if _never_sent(exc):
        return "connection refused"
    return text.split(": ", 1)[-1][:200] or type(exc).__name__


def _error_code(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return body.get("code", "") if isinstance(body, dict) else ""


def error_from_response(response: requests.Response):
    """Steward's error body (``{"message", "code", "errors"}``) as an exception; a body that is
    not Steward's (a proxy's HTML page) is summed up by its status."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "message" in body:
        message, code, errors = body["message"], body.get("code", ""), body.get("errors")
    elif isinstance(body, dict) and "detail" in body:
        message, code, errors = str(body["detail"]), "", None
    else:
        reason = response.reason or "error"
        if 300 <= status < 400:
            message = f"Steward answered a redirect to {response.headers.get('Location', '?')}"
            message += " (is the URL right? use https:// if the server redirects to it)"
        else:
            message = f"Steward answered {status} {reason}"
        code, errors = "", None
    return api_error_class(status)(
        message,
        status=status,
        code=code,
        errors=errors,
        method=response.request.method if response.request else "",
        url=response.url,
        request_id=response.headers.get("X-Request-ID", ""),
        body=body,
    )

"""A WSGI app that answers with what reached it: run under gunicorn with deploy/gunicorn.conf.py
behind the nginx site, it shows what Steward would be handed."""

from __future__ import annotations

import json


def app(environ, start_response):
    body = environ["wsgi.input"].read()
    seen = {
        "scheme": environ["wsgi.url_scheme"],
        "remote_addr": environ.get("REMOTE_ADDR"),
        "host": environ.get("HTTP_HOST"),
        "x_forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
        "x_forwarded_proto": environ.get("HTTP_X_FORWARDED_PROTO"),
        "path": environ.get("PATH_INFO"),
        "body_bytes": len(body),
    }
    answer = json.dumps(seen).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [answer]

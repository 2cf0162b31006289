"""Fixtures of the integrations' tests: API tokens of the personas, and the real
openlineage-python client pointed at a live Steward."""

from __future__ import annotations

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
)

from accounts.services import token_create


def token_of(user, scopes=("read", "write")) -> str:
    return token_create(actor=user, name="openlineage", scopes=list(scopes))[1]


@pytest.fixture
def openlineage_client(live_server):
    """``openlineage_client(secret, gzip=False)``: the real client with its HTTP transport,
    as a pipeline configures it (OPENLINEAGE_URL, OPENLINEAGE_API_KEY), no retries."""

    def make(secret: str, *, gzip: bool = False) -> OpenLineageClient:
        config = HttpConfig(
            url=live_server.url,
            auth=ApiKeyTokenProvider({"api_key": secret}),
            compression=HttpCompression.GZIP if gzip else None,
            retry={"total": 0},
            timeout=30,
        )
        return OpenLineageClient(transport=HttpTransport(config))

    return make

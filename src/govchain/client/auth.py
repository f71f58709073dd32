"""Signing API requests in the SDK: an ``httpx.Auth`` that adds the ``Authorization`` header."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator

import httpx

from govchain.crypto.request_signing import (
    NONCE_SIZE,
    compute_authorization,
    compute_canonical_target,
)
from govchain.crypto.signing import KeyPair

__all__ = ["RequestSigner", "sign_request"]


def sign_request(
    request: httpx.Request,
    key: KeyPair,
    *,
    ts_ms: int | None = None,
    nonce: bytes | None = None,
) -> httpx.Request:
    """Set ``request``'s ``Authorization`` header (a fresh timestamp and random nonce unless
    given) and return it. The body must already be read (``httpx`` does so for ``json=``)."""
    path, _, query = request.url.raw_path.decode("ascii").partition("?")
    request.headers["Authorization"] = compute_authorization(
        key,
        request.method,
        compute_canonical_target(path, query),
        request.content,
        int(time.time() * 1000) if ts_ms is None else ts_ms,
        os.urandom(NONCE_SIZE) if nonce is None else nonce,
    )
    return request


class RequestSigner(httpx.Auth):
    """Signs every request of an ``httpx.Client`` with ``key`` (``Client(url, key=...)`` uses
    it; pass it as ``auth=`` to a raw ``httpx`` client)."""

    requires_request_body = True

    def __init__(self, key: KeyPair, *, clock: Callable[[], float] = time.time) -> None:
        self.key = key
        self.clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        yield sign_request(request, self.key, ts_ms=int(self.clock() * 1000))

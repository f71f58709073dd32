"""A small asyncio client for etcd's v3 API through its JSON gateway (``/v3/...``) over httpx.

Only what the ordering log needs: range, put, transactions (create-if-absent and the like),
delete-range and a prefix watch. Requests go to one member at a time and
fail over to the next on a transport error or a 5xx, so a member that dies (even the Raft
leader) costs one retry, not an outage. Keys and values are bytes; the gateway carries them as
base64, which msgspec encodes and decodes for us. See docs/adr/0005-ordering-on-etcd.md.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import msgspec

from govchain.errors import GovchainError

__all__ = [
    "EtcdClient",
    "EtcdCompacted",
    "EtcdTls",
    "EtcdUnavailable",
    "KeyValue",
    "WatchEvent",
    "prefix_end",
]

log = logging.getLogger("govchain.etcd")

T = TypeVar("T")

WATCH_IDLE_S = 30.0


class EtcdUnavailable(GovchainError):
    code = "ETCD_UNAVAILABLE"
    status = 503
    title = "The ordering service is unavailable"
    default_hint = (
        "Check that a majority of the etcd members named in the node's config.json are running "
        "and reachable (`govchain network status`)."
    )


class EtcdCompacted(GovchainError):
    """A watch or read asked for a revision that etcd has already compacted away."""

    code = "ETCD_COMPACTED"
    status = 500
    title = "The etcd history was compacted"
    default_hint = "Re-read the current state and watch from its revision."


@dataclass(frozen=True, slots=True)
class EtcdTls:
    """TLS settings for talking to etcd: the CA that signed the members' certificates and,
    when the cluster demands client certificates, this peer's certificate and key (PEM)."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file is not None:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context


class KeyValue(msgspec.Struct):
    key: bytes
    value: bytes = b""
    create_revision: int = 0
    mod_revision: int = 0


class _Header(msgspec.Struct):
    revision: int = 0
    member_id: int = 0
    raft_term: int = 0


class _RangeResponse(msgspec.Struct):
    header: _Header = msgspec.field(default_factory=_Header)
    kvs: list[KeyValue] = []
    more: bool = False
    count: int = 0


class _TxnResponse(msgspec.Struct):
    header: _Header = msgspec.field(default_factory=_Header)
    succeeded: bool = False


class _HeaderOnly(msgspec.Struct):
    header: _Header = msgspec.field(default_factory=_Header)


class WatchEvent(msgspec.Struct):
    kv: KeyValue
    type: str = "PUT"  # or "DELETE"


class _WatchResult(msgspec.Struct):
    header: _Header = msgspec.field(default_factory=_Header)
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0
    cancel_reason: str = ""
    events: list[WatchEvent] = []


class _WatchMessage(msgspec.Struct):
    result: _WatchResult | None = None
    error: dict[str, Any] | None = None


def prefix_end(prefix: bytes) -> bytes:
    """The ``range_end`` that selects every key starting with ``prefix`` (etcd's rule)."""
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\x00"


class EtcdClient:
    """Talks to one etcd cluster through any of its members' client URLs."""

    def __init__(
        self,
        endpoints: Sequence[str],
        *,
        tls: EtcdTls | None = None,
        timeout: float = 5.0,
        retry_for: float = 30.0,
    ) -> None:
        if not endpoints:
            raise ValueError("no etcd endpoints")
        self.endpoints = [e.rstrip("/") for e in endpoints]
        self._current = 0
        self._retry_for = retry_for
        verify: ssl.SSLContext | bool = tls.ssl_context() if tls is not None else True
        self._http = httpx.AsyncClient(timeout=timeout, verify=verify)
        # a watch silent this long is restarted (the caller re-reads first), so a member cut
        # off from the cluster cannot hold a peer back for long
        self._watch_timeout = httpx.Timeout(timeout, read=WATCH_IDLE_S)

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- requests with failover ------------------------------------------------------------

    async def _call(self, path: str, body: dict[str, Any], type_: type[T]) -> T:
        """POST ``body`` to ``path`` on the current member; on failure try the next members,
        and keep trying for ``retry_for`` seconds (an election takes about a second)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry_for
        payload = msgspec.json.encode(body)
        attempt = 0
        while True:
            endpoint = self.endpoints[self._current]
            try:
                response = await self._http.post(endpoint + path, content=payload)
                if response.status_code < 500:
                    return self._decode(response, type_)
                problem = f"{response.status_code} {response.text[:200]}"
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            self._current = (self._current + 1) % len(self.endpoints)
            attempt += 1
            if loop.time() >= deadline:
                raise EtcdUnavailable(f"etcd did not answer {path}: {problem}")
            log.debug("etcd %s via %s failed (%s); trying the next member", path, endpoint, problem)
            if attempt % len(self.endpoints) == 0:
                await asyncio.sleep(min(0.05 * attempt, 1.0))

    @staticmethod
    def _decode(response: httpx.Response, type_: type[T]) -> T:
        if response.status_code != 200:
            text = response.text[:300]
            if "compacted" in text:
                raise EtcdCompacted(f"etcd: {text}")
            raise EtcdUnavailable(f"etcd answered {response.status_code}: {text}")
        return msgspec.json.decode(response.content, type=type_, strict=False)

    # --- key-value -------------------------------------------------------------------------

    async def range(
        self, key: bytes, range_end: bytes | None = None, *, limit: int = 0, revision: int = 0
    ) -> tuple[int, list[KeyValue], bool]:
        """Keys in ``[key, range_end)`` in key order: (revision read at, key-values, more)."""
        body: dict[str, Any] = {"key": key, "limit": limit, "revision": revision}
        if range_end is not None:
            body["range_end"] = range_end
        r = await self._call("/v3/kv/range", body, _RangeResponse)
        return r.header.revision, r.kvs, r.more

    async def last_key(self, prefix: bytes) -> KeyValue | None:
        """The greatest key under ``prefix`` (without its value), or None."""
        body = {
            "key": prefix,
            "range_end": prefix_end(prefix),
            "limit": 1,
            "sort_order": "DESCEND",
            "sort_target": "KEY",
            "keys_only": True,
        }
        r = await self._call("/v3/kv/range", body, _RangeResponse)
        return r.kvs[0] if r.kvs else None

    async def put(self, key: bytes, value: bytes) -> int:
        r = await self._call("/v3/kv/put", {"key": key, "value": value}, _HeaderOnly)
        return r.header.revision

    async def create(self, key: bytes, value: bytes) -> bool:
        """Put ``value`` at ``key`` only if the key was never created (compare create_revision
        == 0, in one transaction): True if this call created it."""
        return await self.txn(
            {
                "compare": [
                    {"key": key, "target": "CREATE", "result": "EQUAL", "create_revision": 0}
                ],
                "success": [{"request_put": {"key": key, "value": value}}],
            }
        )

    async def txn(self, body: dict[str, Any]) -> bool:
        """Run a transaction (compare / success / failure, as etcd's TxnRequest with bytes for
        keys and values): True if its comparisons held."""
        r = await self._call("/v3/kv/txn", body, _TxnResponse)
        return r.succeeded

    async def delete_range(self, key: bytes, range_end: bytes) -> None:
        await self._call("/v3/kv/deleterange", {"key": key, "range_end": range_end}, _HeaderOnly)

    # --- watch -----------------------------------------------------------------------------

    async def watch(
        self, key: bytes, range_end: bytes, start_revision: int
    ) -> AsyncIterator[list[WatchEvent]]:
        """Events on ``[key, range_end)`` from ``start_revision`` on, a batch per message. Ends
        (returns) when the stream breaks; raises :class:`EtcdCompacted` when the revision is
        gone. The caller re-reads and watches again from where it got to."""
        body = {
            "create_request": {
                "key": key,
                "range_end": range_end,
                "start_revision": start_revision,
                "progress_notify": True,
            }
        }
        endpoint = self.endpoints[self._current]
        try:
            async with self._http.stream(
                "POST",
                endpoint + "/v3/watch",
                content=msgspec.json.encode(body),
                timeout=self._watch_timeout,
            ) as response:
                if response.status_code != 200:
                    raise httpx.TransportError(f"watch answered {response.status_code}")
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    message = msgspec.json.decode(line, type=_WatchMessage, strict=False)
                    result = message.result
                    if result is None:
                        return
                    if result.compact_revision:
                        raise EtcdCompacted(f"revision {start_revision} was compacted")
                    if result.canceled:
                        return
                    if result.events:
                        yield result.events
        except httpx.TransportError as exc:
            log.debug("etcd watch via %s ended: %s", endpoint, exc)
            self._current = (self._current + 1) % len(self.endpoints)

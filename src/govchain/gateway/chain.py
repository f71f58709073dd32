"""What a gateway reads from the chain: grants and key holders, every value state-proven.

Proven reads are cached only while they are current. A background thread follows the node's
block stream; a cached value is reused only while no block has been committed since its proof
(its height is still the head) and for at most ``cache_ms``, so a revocation or a use counted on
chain takes effect at the next request after its block is announced. While the stream is down,
nothing is cached.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from govchain.client.gateway import (
    KeyHolder,
    ProvenGrant,
    read_grant,
    read_key_holder,
)
from govchain.client.sdk import Client
from govchain.errors import GovchainError, ProofError
from govchain.gateway.errors import ChainUnavailable

__all__ = ["ChainView"]

log = logging.getLogger("govchain.gateway")
T = TypeVar("T")
RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0)


class ChainView:
    """Proven, carefully cached reads through one SDK client (thread-safe)."""

    def __init__(
        self,
        client: Client,
        *,
        cache_ms: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.cache_ms = cache_ms
        self.clock = clock
        self.head: int | None = None  # None: not following, nothing is cached
        self._cache: dict[object, tuple[int, float, object]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- reads --------------------------------------------------------------------------

    def grant(self, grant_id: str) -> ProvenGrant:
        return self._cached(("grant", grant_id), lambda: read_grant(self.client, grant_id))

    def key_holder(self, public_key: bytes) -> KeyHolder | None:
        return self._cached(("key", public_key), lambda: read_key_holder(self.client, public_key))

    def _cached(self, key: object, read: Callable[[], T]) -> T:
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == self.head and now - hit[1] < self.cache_ms / 1000:
                return hit[2]  # type: ignore[return-value]
            head = self.head
        try:
            value = read()
        except ProofError as exc:
            log.error("the node answered an unproven state: %s", exc.code)
            raise ChainUnavailable(f"the node's answer does not check out: {exc.message}") from exc
        except GovchainError as exc:
            raise ChainUnavailable(f"cannot read the chain: {exc.message}") from exc
        height = getattr(value, "height", None)
        with self._lock:
            if head is not None and self.head == head and height == head:
                self._cache[key] = (head, now, value)
        return value

    def note_height(self, height: int) -> None:
        """A block at ``height`` is committed (from the stream or an own transaction)."""
        with self._lock:
            if self.head is not None and height > self.head:
                self.head = height
                self._cache.clear()

    # --- following the head -------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._follow, name="gateway-head", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self.head = None
            self._cache.clear()

    def _set_head(self, height: int | None) -> None:
        with self._lock:
            self.head = height
            self._cache.clear()

    def _follow(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                start = int(self.client.status()["height"])  # the stream replays it first
                for kind, data in self.client.stream(start, timeout=None):
                    if self._stop.is_set():
                        return
                    if kind == "block":
                        self._set_head(int(data["header"]["height"]))
                        failures = 0
            except Exception as exc:  # noqa: BLE001 - any failure: stop caching, reconnect
                log.warning("block stream interrupted (%s); not caching", type(exc).__name__)
            self._set_head(None)
            self._stop.wait(RETRY_S[min(failures, len(RETRY_S) - 1)])
            failures += 1

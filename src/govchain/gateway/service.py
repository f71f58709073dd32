"""The owner gateway's decisions, apart from HTTP: authenticate, check the grant on chain, read
only the granted fields, seal them to the requester, sign and journal the access receipt.

Checks run in this order, each with its own error code: the request's signature scheme (ADR
0004: ``AUTH_*``), the body, the resource, the grant (exists, this requester and key, this
resource, not revoked, not expired, uses left counting receipts not yet on chain), the subject,
the fields, outstanding counter-signatures, the record. Values are never logged.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import msgspec

from govchain.api.auth import NonceCache
from govchain.client.gateway import KeyHolder, ProvenGrant, get_acting_problem
from govchain.contracts.sharing_records import AccessReceipt, Grant
from govchain.crypto.hashing import sha256
from govchain.crypto.request_signing import (
    RequestCredentials,
    is_request_signature_valid,
    parse_authorization,
)
from govchain.crypto.signing import KeyPair
from govchain.errors import AuthBadSignature, AuthExpired, AuthReplayed, AuthRequired
from govchain.gateway.anchor import ReceiptAnchorer
from govchain.gateway.config import GatewayConfig
from govchain.gateway.datasource import DataSource
from govchain.gateway.errors import (
    BadGatewayRequest,
    FieldsNotGranted,
    GatewayError,
    GrantExhausted,
    GrantExpired,
    GrantNotFound,
    GrantRevoked,
    NotGrantee,
    ReceiptBadSignature,
    ReceiptMismatch,
    ReceiptsOutstanding,
    ReceiptUnknown,
    RecordNotFound,
    UnknownResource,
    WrongResource,
    WrongSubject,
)
from govchain.gateway.journal import ReceiptJournal
from govchain.gateway.protocol import (
    ENVELOPE_VERSION,
    MAX_COUNTERSIGN,
    CountersignAnswer,
    CountersignRequest,
    CountersignResult,
    EnvelopePayload,
    FetchAnswer,
    FetchRequest,
    compute_request_hash,
    decode_receipt,
    encode_receipt,
    is_requester_signature_valid,
    is_same_receipt,
    seal_envelope,
    sign_receipt,
)

__all__ = ["ChainReader", "GatewayService", "SignedCall"]

log = logging.getLogger("govchain.gateway")


class ChainReader(Protocol):
    """What the service reads from the chain (:class:`govchain.gateway.chain.ChainView`)."""

    head: int | None

    def grant(self, grant_id: str) -> ProvenGrant: ...
    def key_holder(self, public_key: bytes) -> KeyHolder | None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...


class SignedCall(msgspec.Struct, frozen=True):
    """An HTTP request as the service needs it: the Authorization header, method, canonical
    target (path and sorted query) and raw body."""

    authorization: str | None
    method: str
    target: str
    body: bytes


class _Authenticated(msgspec.Struct, frozen=True):
    credentials: RequestCredentials
    request_hash: bytes


class GatewayService:
    """One owner gateway: its organisation, data, journal and view of the chain."""

    def __init__(
        self,
        config: GatewayConfig,
        key: KeyPair,
        org: str,
        chain: ChainReader,
        data: DataSource,
        journal: ReceiptJournal,
        anchorer: ReceiptAnchorer | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.key = key
        self.org = org
        self.chain = chain
        self.data = data
        self.journal = journal
        self.anchorer = anchorer
        self.clock = clock
        self.nonces = NonceCache(config.auth_window_ms, 1_000_000)

    # --- authentication -----------------------------------------------------------------

    def _authenticate(self, call: SignedCall) -> _Authenticated:
        if call.authorization is None:
            raise AuthRequired("a gateway answers signed requests only")
        credentials = parse_authorization(call.authorization)
        now_ms = int(self.clock() * 1000)
        skew = credentials.ts_ms - now_ms
        if abs(skew) > self.config.auth_window_ms:
            raise AuthExpired(
                f"the request was signed {abs(skew) / 1000:.1f} s away from this gateway's "
                f"clock; it accepts ±{self.config.auth_window_ms / 1000:g} s",
                gateway_time_ms=now_ms,
            )
        body_hash = sha256(call.body)
        if not is_request_signature_valid(credentials, call.method, call.target, body_hash):
            raise AuthBadSignature(
                f"the signature does not match key {credentials.public_key.hex()} and "
                f"{call.method} {call.target}"
            )
        request_hash = compute_request_hash(credentials, call.method, call.target, body_hash)
        entry = credentials.public_key + credentials.nonce
        if self.nonces.is_seen(entry, now_ms) or self.journal.has_request(request_hash):
            raise AuthReplayed(f"nonce {credentials.nonce.hex()} was already used")
        self.nonces.add(entry, now_ms)
        return _Authenticated(credentials, request_hash)

    # --- fetch --------------------------------------------------------------------------

    def fetch(self, call: SignedCall) -> FetchAnswer:
        auth = self._authenticate(call)
        request = _decode(call.body, FetchRequest)
        if self.config.mapping(request.resource_id) is None:
            raise UnknownResource(f"this gateway does not serve resource {request.resource_id!r}")
        proven = self.chain.grant(request.grant_id)
        grant = self._check_grant(proven, request, auth.credentials.public_key)
        self._check_scope(grant, request)
        outstanding = self.journal.count_outstanding(grant.id, auth.credentials.public_key)
        if outstanding >= self.config.max_outstanding:
            raise ReceiptsOutstanding(
                f"{outstanding} receipts of grant {grant.id} wait for this key's counter-signature"
            )
        values = self.data.get_record(request.resource_id, request.subject, request.fields)
        if values is None:
            raise RecordNotFound(f"resource {request.resource_id} has no record for that key")
        return self._answer(proven, request, auth, values)

    def _check_grant(self, proven: ProvenGrant, request: FetchRequest, key: bytes) -> Grant:
        grant = proven.grant
        if grant is None:
            raise GrantNotFound(f"there is no grant {request.grant_id} on chain")
        if request.requester != grant.requester:  # first: others learn nothing of the grant
            raise NotGrantee(f"grant {grant.id} was not given to {request.requester}")
        problem = get_acting_problem(self.chain.key_holder(key), key, grant.requester)
        if problem is not None:
            raise NotGrantee(f"grant {grant.id}: {problem}")
        if grant.resource_id != request.resource_id or grant.owner != self.org:
            raise WrongResource(
                f"grant {grant.id} is for resource {grant.resource_id} of {grant.owner}"
            )
        if grant.status != "active":
            raise GrantRevoked(f"grant {grant.id} was revoked at height {grant.revoked_height}")
        if int(self.clock() * 1000) > grant.expires_ms:
            raise GrantExpired(f"grant {grant.id} expired at {grant.expires_ms} (Unix ms)")
        if grant.uses >= grant.max_uses:
            raise GrantExhausted(f"grant {grant.id} was used {grant.uses} of {grant.max_uses}")
        return grant

    def _check_scope(self, grant: Grant, request: FetchRequest) -> None:
        if grant.subject is not None and request.subject != grant.subject:
            raise WrongSubject(f"grant {grant.id} covers one data subject's record only")
        if not request.fields or len(set(request.fields)) != len(request.fields):
            raise BadGatewayRequest("fields must name at least one field, each once")
        outside = [f for f in request.fields if f not in grant.fields]
        if outside:
            raise FieldsNotGranted(
                f"grant {grant.id} does not cover {', '.join(outside)}",
                granted=list(grant.fields),
            )

    def _answer(
        self,
        proven: ProvenGrant,
        request: FetchRequest,
        auth: _Authenticated,
        values: dict[str, Any],
    ) -> FetchAnswer:
        grant = proven.grant
        assert grant is not None
        payload = EnvelopePayload(
            ENVELOPE_VERSION,
            grant.id,
            auth.request_hash.hex(),
            request.resource_id,
            request.subject,
            values,
        )
        envelope = seal_envelope(payload, auth.credentials.public_key)
        receipt = sign_receipt(
            AccessReceipt(
                grant.id,
                auth.request_hash,
                sha256(envelope),
                list(request.fields),
                int(self.clock() * 1000),
                grant.requester,
                auth.credentials.public_key,
                b"",
                b"",
                b"",
            ),
            self.key,
        )
        left = grant.max_uses - grant.uses
        if not self.journal.add_issued(receipt, grant_height=proven.height, uses_left=left):
            raise GrantExhausted(
                f"grant {grant.id}: every use of {grant.max_uses} is spent or being anchored"
            )
        log.info("answered grant %s request %s", grant.id, auth.request_hash.hex()[:16])
        return FetchAnswer(_b64(envelope), encode_receipt(receipt))

    # --- counter-signatures -------------------------------------------------------------

    def countersign(self, call: SignedCall) -> CountersignAnswer:
        """Take counter-signed receipts back; each is judged on its own."""
        auth = self._authenticate(call)
        texts = _decode(call.body, CountersignRequest).receipts
        if not 1 <= len(texts) <= MAX_COUNTERSIGN:
            raise BadGatewayRequest(f"return 1 to {MAX_COUNTERSIGN} receipts at a time")
        results: list[CountersignResult] = []
        taken: list[AccessReceipt] = []
        for text in texts:
            try:
                receipt, fresh = self._check_countersigned(text, auth.credentials.public_key)
            except GatewayError as exc:
                results.append(CountersignResult(_hash_of(text), exc.code, exc.message))
                continue
            results.append(CountersignResult(receipt.request_hash.hex()))
            if fresh:
                taken.append(receipt)
        if taken:
            self.journal.set_countersigned(taken)
            if self.anchorer is not None:
                self.anchorer.wake()
        return CountersignAnswer(results)

    def _check_countersigned(self, text: str, key: bytes) -> tuple[AccessReceipt, bool]:
        """The returned receipt, and whether it is newly counter-signed."""
        returned = decode_receipt(text)
        entry = self.journal.get(returned.request_hash)
        if entry is None:
            raise ReceiptUnknown(f"this gateway issued no receipt {returned.request_hash.hex()}")
        if key != entry.receipt.requester_key:
            raise ReceiptMismatch("only the key that made the request counter-signs its receipt")
        if not is_same_receipt(entry.receipt, returned):
            raise ReceiptMismatch("the receipt differs from the one this gateway issued")
        if not is_requester_signature_valid(returned):
            raise ReceiptBadSignature("the requester's signature on the receipt is not valid")
        if entry.state == "issued":
            return returned, True
        if entry.receipt.requester_signature not in (b"", returned.requester_signature):
            raise ReceiptMismatch("the receipt was counter-signed already")
        return returned, False

    def health(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "key": self.key.public_key.hex(),
            "resources": [m.resource_id for m in self.config.resources],
            "chain_head": self.chain.head,
            "receipts": self.journal.counts(),
        }


def _hash_of(text: str) -> str:
    try:
        return decode_receipt(text).request_hash.hex()
    except GatewayError:
        return ""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _decode(body: bytes, type_: type[Any]) -> Any:
    try:
        return msgspec.json.decode(body, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadGatewayRequest(f"the request body is not a {type_.__name__}: {exc}") from exc

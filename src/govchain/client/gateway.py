"""The requesting side of a data exchange, and proven reads both gateways rely on.

>>> gw = GatewayClient("https://gw.market.example", key=my_key, node=Client(node_url, key=my_key))
>>> result = gw.fetch(grant_id, resource_id="business-licences", subject="ent:9133...",
...                   fields=["name", "status"], requester="tax")
>>> result.values  # {"name": ..., "status": ...}; the counter-signed receipt is sent back

``fetch`` signs the request (ADR 0004), checks the owner's receipt — that it names this request,
this key and the fields asked, that its response hash is the envelope's, that the owner signed
it, and (given a node) that the signing key is an active member key of the grant's owner on
chain — opens the envelope, counter-signs the receipt and returns it to the owner's gateway
(``docs/adr/0006-gateway-exchange.md``).
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import time
from typing import Any

import httpx
import msgspec

from govchain.client.auth import sign_request
from govchain.client.sdk import Client
from govchain.contracts.identity import Identity, KeyRef, identity_state_key
from govchain.contracts.sharing_records import AccessReceipt, Grant, grant_state_key
from govchain.crypto.hashing import sha256
from govchain.crypto.request_signing import compute_canonical_target, parse_authorization
from govchain.crypto.signing import KeyPair
from govchain.encoding import decode
from govchain.errors import AuthForbidden, ContractError, GovchainError, error_class_for_code
from govchain.gateway.errors import ResponseInvalid
from govchain.gateway.protocol import (
    FETCH_PATH,
    MAX_COUNTERSIGN,
    RECEIPTS_PATH,
    CountersignAnswer,
    CountersignRequest,
    CountersignResult,
    EnvelopePayload,
    FetchAnswer,
    FetchRequest,
    compute_request_hash,
    countersign_receipt,
    decode_receipt,
    encode_receipt,
    is_owner_signature_valid,
    open_envelope,
)

__all__ = [
    "FetchResult",
    "GatewayClient",
    "KeyHolder",
    "ProvenGrant",
    "get_acting_problem",
    "read_grant",
    "read_key_holder",
]

KEY_PREFIX = b"identity/key/"


class ProvenGrant(msgspec.Struct, frozen=True):
    """A grant (None: no such grant) as proven against the state root at ``height``."""

    grant_id: str
    grant: Grant | None
    height: int


class KeyHolder(msgspec.Struct, frozen=True):
    """The identity a key is bound to (and its organisation) as proven at ``height``."""

    public_key: bytes
    identity: Identity
    org: Identity | None
    height: int


class FetchResult(msgspec.Struct, frozen=True):
    values: dict[str, Any]
    receipt: AccessReceipt  # counter-signed
    countersigned: bool  # returned to the owner's gateway already (False: queued for a batch)


def _proven_value(client: Client, key: bytes, height: int | None) -> tuple[bytes | None, int]:
    answer = client.state(key, height=height)  # the SDK verifies the proof and the key
    value = answer["value"]
    return (None if value is None else bytes.fromhex(value)), int(answer["height"])


def read_grant(client: Client, grant_id: str) -> ProvenGrant:
    """The grant at the node's latest height, its state proof verified. Callers that may not
    read raw state (enterprises, citizens) read it, as a party, through the sharing route."""
    try:
        raw, height = _proven_value(client, grant_state_key(grant_id), None)
    except AuthForbidden:
        return _read_grant_as_party(client, grant_id)
    return ProvenGrant(grant_id, None if raw is None else decode(raw, Grant), height)


def _read_grant_as_party(client: Client, grant_id: str) -> ProvenGrant:
    from govchain.client.sharing import SharingClient

    try:
        answer = SharingClient(client).show(grant_id)  # grant id = request id; proofs checked
    except ContractError as exc:
        if exc.code == "SHARE_UNKNOWN_REQUEST":
            return ProvenGrant(grant_id, None, 0)
        raise
    state = answer.get("grant_state")
    if state is None or state.get("value") is None:
        return ProvenGrant(grant_id, None, 0)
    grant = decode(bytes.fromhex(state["value"]), Grant)
    return ProvenGrant(grant_id, grant if grant.id == grant_id else None, int(state["height"]))


def read_key_holder(client: Client, public_key: bytes) -> KeyHolder | None:
    """Who holds ``public_key`` (None: nobody), every record proven at one height."""
    raw, height = _proven_value(client, KEY_PREFIX + public_key, None)
    if raw is None:
        return None
    ref = decode(raw, KeyRef)
    raw_identity, _ = _proven_value(client, identity_state_key(ref.identity), height)
    if raw_identity is None:
        return None
    identity = decode(raw_identity, Identity)
    org = None
    if identity.kind in ("member", "node") and identity.org:
        raw_org, _ = _proven_value(client, identity_state_key(identity.org), height)
        org = None if raw_org is None else decode(raw_org, Identity)
    return KeyHolder(public_key, identity, org, height)


def get_acting_problem(holder: KeyHolder | None, public_key: bytes, acting_for: str) -> str | None:
    """None when ``public_key`` may act for ``acting_for`` now: it is an active key of that
    identity, or of an active member or node of that organisation; otherwise why not."""
    who = f"key {public_key.hex()[:16]}…"
    if holder is None:
        return f"{who} is not registered on chain"
    identity, height = holder.identity, holder.height + 1
    entry = next((k for k in identity.keys if k.public_key == public_key), None)
    if (
        entry is None
        or entry.added_height > height
        or (entry.until_height is not None and height >= entry.until_height)
    ):
        return f"{who} of {identity.id} is no longer valid"
    if identity.status != "active":
        return f"{identity.id} is {identity.status}"
    if identity.id == acting_for:
        return None
    if identity.kind in ("member", "node") and identity.org == acting_for:
        if holder.org is None or holder.org.status != "active":
            return f"organisation {acting_for} is not active"
        return None
    return f"{who} belongs to {identity.id}, which does not act for {acting_for}"


def _error(response: httpx.Response) -> GovchainError:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    code = str(problem.get("code") or f"HTTP_{response.status_code}")
    err = error_class_for_code(code)(
        str(problem.get("detail") or response.text[:300]), hint=problem.get("hint")
    )
    if err.code != code:
        err.details["code"] = code
    err.details["status"] = response.status_code
    return err


class GatewayClient:
    """A data gateway's API, signing as ``key``. With ``node``, the owner's receipt key is
    checked on chain (an active member key of the grant's owner); a key found good is trusted
    for ``owner_check_s`` seconds (the chain checks it again when the receipt is anchored).

    Counter-signed receipts go back at once, or with ``countersign_batch`` > 1 in batches of
    that many (one request for many exchanges; :meth:`flush` and :meth:`close` send the rest;
    the owner's gateway refuses a key that leaves too many receipts without counter-signature).
    """

    def __init__(
        self,
        url: str,
        *,
        key: KeyPair,
        node: Client | None = None,
        timeout: float = 30.0,
        owner_check_s: float = 60.0,
        countersign_batch: int = 1,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.node = node
        self.owner_check_s = owner_check_s
        self._owner_checked: dict[tuple[bytes, str], float] = {}
        self.countersign_batch = max(1, min(countersign_batch, MAX_COUNTERSIGN))
        self._queued: list[AccessReceipt] = []
        self._queue_lock = threading.Lock()
        self._http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._http.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, path: str, body: bytes) -> tuple[httpx.Response, bytes]:
        request = self._http.build_request(
            "POST", path, content=body, headers={"Content-Type": "application/json"}
        )
        sign_request(request, self.key, ts_ms=int(time.time() * 1000), nonce=os.urandom(16))
        credentials = parse_authorization(request.headers["Authorization"])
        target = compute_canonical_target(path)
        request_hash = compute_request_hash(credentials, "POST", target, sha256(body))
        try:
            response = self._http.send(request)
        except httpx.HTTPError as exc:
            raise GovchainError(
                f"cannot reach the gateway at {self.url}: {exc}",
                hint="Check the gateway URL (the catalogue entry names it) and that it runs.",
            ) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response, request_hash

    def fetch_raw(self, request: FetchRequest) -> tuple[FetchAnswer, bytes]:
        """Send a signed fetch request; the answer unchecked and the request's hash."""
        response, request_hash = self._send(FETCH_PATH, msgspec.json.encode(request))
        try:
            answer = msgspec.json.decode(response.content, type=FetchAnswer)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ResponseInvalid(f"the gateway's answer is not a fetch answer: {exc}") from exc
        return answer, request_hash

    def fetch(
        self,
        grant_id: str,
        *,
        resource_id: str,
        subject: str,
        fields: list[str],
        requester: str,
        owner: str | None = None,
    ) -> FetchResult:
        """Fetch, check, decrypt, counter-sign. ``owner`` (the grant's owning organisation)
        is needed to check the owner's key on chain; with a node it is read from the grant."""
        request = FetchRequest(grant_id, resource_id, subject, fields, requester)
        answer, request_hash = self.fetch_raw(request)
        envelope = _unbase64(answer.envelope)
        receipt = decode_receipt(answer.receipt)
        self._check_receipt(receipt, request, request_hash, envelope)
        self._check_owner(receipt, grant_id, resource_id, owner)
        payload = open_envelope(envelope, self.key)
        _check_payload(payload, request, request_hash)
        signed = countersign_receipt(receipt, self.key)
        if self.countersign_batch == 1:
            return FetchResult(payload.values, signed, self.countersign(signed))
        with self._queue_lock:
            self._queued.append(signed)
            due = len(self._queued) >= self.countersign_batch
        if due:
            self.flush()
        return FetchResult(payload.values, signed, False)

    def _check_receipt(
        self, receipt: AccessReceipt, request: FetchRequest, request_hash: bytes, envelope: bytes
    ) -> None:
        expected = (request.grant_id, request_hash, request.requester, self.key.public_key)
        got = (receipt.grant_id, receipt.request_hash, receipt.requester, receipt.requester_key)
        if got != expected:
            raise ResponseInvalid("the receipt names another request, grant or requester")
        if receipt.fields != request.fields:
            raise ResponseInvalid("the receipt names other fields than those asked for")
        if receipt.response_hash != sha256(envelope):
            raise ResponseInvalid("the receipt's response hash is not the envelope's")
        if not is_owner_signature_valid(receipt):
            raise ResponseInvalid("the owner's signature on the receipt is not valid")

    def _check_owner(
        self, receipt: AccessReceipt, grant_id: str, resource_id: str, owner: str | None
    ) -> None:
        if self.node is None:
            return
        if owner is None:
            proven = read_grant(self.node, grant_id)
            if proven.grant is None:
                raise ResponseInvalid(f"grant {grant_id} is not on chain")
            owner = proven.grant.owner
        checked = self._owner_checked.get((receipt.owner_key, owner))
        if checked is not None and time.monotonic() - checked < self.owner_check_s:
            return
        try:
            holder = read_key_holder(self.node, receipt.owner_key)
        except AuthForbidden:  # not a member: the catalogue names the gateway's key
            self._check_catalogue_key(receipt, resource_id)
        else:
            if (problem := get_acting_problem(holder, receipt.owner_key, owner)) is not None:
                raise ResponseInvalid(f"the receipt's signer does not act for {owner}: {problem}")
        self._owner_checked[(receipt.owner_key, owner)] = time.monotonic()

    def _check_catalogue_key(self, receipt: AccessReceipt, resource_id: str) -> None:
        from govchain.client.catalog import CatalogClient

        assert self.node is not None
        entry = CatalogClient(self.node).resource(resource_id)["resource"]  # proven
        if entry["gateway"]["public_key"] != receipt.owner_key.hex():
            raise ResponseInvalid(
                f"the receipt is not signed by the gateway key the catalogue names for "
                f"{resource_id}"
            )

    def countersign(self, receipt: AccessReceipt) -> bool:
        """Return one counter-signed receipt; raises the gateway's error if it refuses it."""
        result = self.countersign_many([receipt])[0]
        if result.code is not None:
            raise error_class_for_code(result.code)(result.detail or result.code)
        return True

    def countersign_many(self, receipts: list[AccessReceipt]) -> list[CountersignResult]:
        """Return counter-signed receipts; each one's fate, in order."""
        body = msgspec.json.encode(CountersignRequest([encode_receipt(r) for r in receipts]))
        response, _ = self._send(RECEIPTS_PATH, body)
        try:
            answer = msgspec.json.decode(response.content, type=CountersignAnswer)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ResponseInvalid(f"the gateway's answer is not a receipts answer: {exc}") from exc
        if len(answer.results) != len(receipts):
            raise ResponseInvalid("the gateway answered for another number of receipts")
        return answer.results

    def flush(self) -> list[CountersignResult]:
        """Send the queued counter-signed receipts now."""
        with self._queue_lock:
            batch, self._queued = self._queued, []
        return self.countersign_many(batch) if batch else []

    def health(self) -> dict[str, Any]:
        response = self._http.get("/v1/health")
        if response.status_code >= 400:
            raise _error(response)
        result: dict[str, Any] = response.json()
        return result


def _unbase64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ResponseInvalid("the envelope is not base64") from exc


def _check_payload(payload: EnvelopePayload, request: FetchRequest, request_hash: bytes) -> None:
    bound = (payload.grant_id, payload.request_hash, payload.resource_id, payload.subject)
    asked = (request.grant_id, request_hash.hex(), request.resource_id, request.subject)
    if bound != asked:
        raise ResponseInvalid("the envelope answers another request")
    if sorted(payload.values) != sorted(request.fields):
        raise ResponseInvalid("the envelope holds other fields than those asked for")

"""Issuer-signed status lists (SDK side): publish an organisation's list, fetch it, verify it.

>>> published = publish_status_list(client, issuer_key, org="tax", purpose="revocation")
>>> result = verify_status_list(client, published.credential, now_ms=...)
>>> result.valid, [c.check for c in result.failed]

:func:`publish_status_list` takes the organisation's list as the state holds it at the latest
height (the node's derived list), secures it with ``eddsa-jcs-2022`` (issuer = the organisation's
DID, ``verificationMethod`` = the signing member's ``<member DID>#key-N``), sets
``validFrom``/``validUntil`` and anchors it (certs ``publish_status_list``, by an issuer or
admin). :func:`verify_status_list` checks a fetched list on the client, trusting no node: the
list's record, the organisation's latest record and the signing member's identity record at the
publishing height come with state proofs, verified here, and the pure checker of
:mod:`govchain.contracts.certs_status_lists` — the one the node runs — judges them.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from govchain.client.sdk import Client
from govchain.client.verify import verify_state_answer
from govchain.contracts.certs_status_lists import (
    ListCheck,
    PublishStatusListArgs,
    StatusListRecord,
    StatusListShape,
    check_signed_status_list,
    get_status_list_shape,
    status_list_hash_state_key,
    status_list_state_key,
)
from govchain.contracts.did import did_of
from govchain.contracts.identity import Identity, identity_state_key
from govchain.credentials.data_integrity import create_proof
from govchain.credentials.status_list import (
    BitstringStatusListEntry,
    StatusList,
    StatusPurpose,
    build_status_list_credential,
)
from govchain.credentials.vc import compute_credential_hash
from govchain.crypto.signing import KeyPair
from govchain.encoding import decode
from govchain.errors import BadRequest, GovchainError, RootMismatch

__all__ = [
    "PublishedList",
    "SignedListVerification",
    "build_signed_status_list",
    "fetch_status_list",
    "get_list_status",
    "publish_status_list",
    "verify_status_list",
]

_T = TypeVar("_T")
DEFAULT_VALIDITY = datetime.timedelta(days=1)


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_signed_status_list(
    key: KeyPair,
    *,
    verification_method: str,
    issuer_did: str,
    purpose: StatusPurpose,
    list_url: str,
    bits: StatusList,
    valid_from: str,
    valid_until: str,
) -> dict[str, Any]:
    """A ``BitstringStatusListCredential`` secured with ``eddsa-jcs-2022`` (pure: no clock)."""
    document = build_status_list_credential(
        id=list_url,
        issuer=issuer_did,
        status_purpose=purpose,
        status_list=bits,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    return create_proof(
        document, signer=key, verification_method=verification_method, created=valid_from
    )


@dataclass(frozen=True)
class PublishedList:
    credential: dict[str, Any]
    list_hash: str  # hex
    list_height: int  # the height whose state it reflects
    height: int | None  # the block that anchored it


def _verification_method(client: Client, key: KeyPair) -> str:
    member = client.query("identity", "key", {"public_key": key.public_key})
    position = next(
        n for n, k in enumerate(member["keys"], start=1) if k["public_key"] == key.public_key.hex()
    )
    return f"{did_of(client.chain_id, member['id'])}#key-{position}"


def publish_status_list(
    client: Client,
    key: KeyPair,
    *,
    org: str,
    purpose: StatusPurpose,
    valid_for: datetime.timedelta = DEFAULT_VALIDITY,
    now: datetime.datetime | None = None,
) -> PublishedList:
    """Build the organisation's list from the latest state, sign it with ``key`` (an issuer or
    admin of ``org``) and anchor it; raises the contract's error (e.g. ``CERT_NOT_ISSUER``)."""
    path = f"/v1/credentials/status-lists/{org}/{purpose}"
    derived = client.get(path + "/derived")
    bits = StatusList.decode(derived["credential"]["credentialSubject"]["encodedList"])
    # valid from the time of the block whose state the list reflects: never after the time of
    # the block that will anchor it, whatever this machine's clock says
    reflected = datetime.datetime.fromtimestamp(int(derived["time_ms"]) // 1000, datetime.UTC)
    start = now or datetime.datetime.now(datetime.UTC)
    credential = build_signed_status_list(
        key,
        verification_method=_verification_method(client, key),
        issuer_did=did_of(client.chain_id, org),
        purpose=purpose,
        list_url=client.url + path,
        bits=bits,
        valid_from=_stamp(min(start, reflected)),
        valid_until=_stamp(start + valid_for),
    )
    text = msgspec.json.encode(credential).decode()
    args = PublishStatusListArgs(org, purpose, int(derived["height"]), text)
    outcome = client.send(key, "certs", "publish_status_list", args)
    digest = compute_credential_hash(credential).hex()
    return PublishedList(credential, digest, int(derived["height"]), outcome.height)


def fetch_status_list(
    client: Client, org: str, purpose: str = "revocation", *, derived: bool = False
) -> dict[str, Any]:
    """The node's answer for an organisation's list: the signed one (``signed`` true, with its
    record) once published, else — or with ``derived`` — the unsigned one derived from state.
    Check a signed one with :func:`verify_status_list`."""
    path = f"/v1/credentials/status-lists/{org}/{purpose}" + ("/derived" if derived else "")
    answer: dict[str, Any] = client.get(path)
    return answer


@dataclass(frozen=True)
class SignedListVerification:
    checks: list[ListCheck]
    height: int  # the latest height the proofs are against
    record: StatusListRecord | None

    @property
    def valid(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[ListCheck]:
        return [c for c in self.checks if c.ok is False]

    @property
    def code(self) -> str:
        return next((c.code for c in self.checks if c.ok is False), "")

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "height": self.height,
            "checks": [c.to_json() for c in self.checks],
        }


def _proven_records(
    client: Client, shape: StatusListShape, digest: bytes
) -> tuple[StatusListRecord | None, StatusListRecord | None, Identity | None, int, int]:
    """The list's record, the organisation's latest record and the signer's identity record,
    each proven against its header here (trust anchor: the client's), and the heights."""
    path = f"/v1/credentials/status-lists/{shape.org}/{shape.purpose}/proofs"
    params = {"hash": digest.hex(), "member": shape.member}
    answer = client.get(path, params=params)
    expected = {
        "record": status_list_hash_state_key(digest),
        "latest": status_list_state_key(shape.org, shape.purpose),
        "signer": identity_state_key(shape.member),
    }
    values: dict[str, bytes | None] = {}
    for name, key in expected.items():
        state = answer[name]
        if bytes.fromhex(state["key"]) != key:
            raise RootMismatch(f"the node proved another key than the list's {name} record")
        verify_state_answer(state, client.trust)
        values[name] = None if state["value"] is None else bytes.fromhex(state["value"])
    record = _optional(values["record"], StatusListRecord)
    latest = _optional(values["latest"], StatusListRecord)
    signer = _optional(values["signer"], Identity)
    return record, latest, signer, int(answer["record"]["height"]), int(answer["signer"]["height"])


def _optional(raw: bytes | None, type_: type[_T]) -> _T | None:
    return None if raw is None else decode(raw, type_)


def verify_status_list(
    client: Client,
    credential: Mapping[str, Any],
    *,
    now_ms: int,
    issuer: str | None = None,
    max_age_ms: int | None = None,
) -> SignedListVerification:
    """The named checks of a signed list, on this side, over records proven by state proofs;
    ``issuer`` is the DID of the credential whose status is looked up."""
    try:
        digest: bytes | None = compute_credential_hash(credential)
        shape = get_status_list_shape(credential)
    except (ValueError, TypeError, GovchainError):
        digest, shape = None, None
    record = latest = None
    signer: Identity | None = None
    height = signer_height = 0
    if digest is not None and shape is not None:
        record, latest, signer, height, signer_height = _proven_records(client, shape, digest)
    checks = check_signed_status_list(
        credential,
        chain_id=client.chain_id,
        record=record,
        latest=latest,
        signer=signer,
        signer_height=signer_height,
        now_ms=now_ms,
        expected_issuer=issuer,
        max_age_ms=max_age_ms,
    )
    return SignedListVerification(checks, height, record)


def get_list_status(list_credential: Mapping[str, Any], vc: Mapping[str, Any]) -> bool | None:
    """Whether the (verified) list's bit for ``vc`` is set (True: revoked or suspended, per the
    list's purpose); None when the credential has no entry of that purpose. The entry is matched
    by purpose, not by URL: any node serves the same anchored list."""
    shape = get_status_list_shape(list_credential)
    entries = vc.get("credentialStatus")
    if entries is None:
        raise BadRequest("the credential has no credentialStatus")
    for raw in entries if isinstance(entries, list) else [entries]:
        entry = BitstringStatusListEntry.from_json(raw)
        if entry.status_purpose == shape.purpose:
            if entry.status_list_index >= len(shape.bits):
                raise BadRequest("the credential's status index lies beyond the list")
            return shape.bits.get(entry.status_list_index)
    return None

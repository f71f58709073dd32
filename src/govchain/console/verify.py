"""Verifying what a visitor pastes: a secured W3C credential (JSON) or a compact QR pass text
(``HC1:``). Each answer is a list of named checks with their outcome and reason.

A credential goes through :func:`govchain.app.verify_credential.verify_credential`, exactly as
``POST /v1/credentials/verify`` does. A QR pass is decoded by the credentials stack's step-wise
decoder (:func:`govchain.credentials.qr.decode_qr_payload`) with the signing key taken from the
chain — the pass's key id is the signing member's ``<DID>#key-N`` — and its credential hash is
then checked against the chain's anchor and status records, read through contract views.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from govchain.app import Application
from govchain.app.verify_credential import verify_credential
from govchain.contracts.certs_records import ANCHOR_ROLES, CertAnchor, CertStatus
from govchain.contracts.did import parse_did
from govchain.contracts.identity import Identity
from govchain.credentials.qr import DCC_PREFIX, DecodedQr, decode_qr_payload
from govchain.errors import BadRequest, GovchainError

__all__ = ["MAX_INPUT_CHARS", "CheckRow", "Verdict", "verify_text"]

MAX_INPUT_CHARS = 64 * 1024
QR_CHAIN_CHECKS = ("issuer", "anchor", "key", "status")


@dataclass(frozen=True, slots=True)
class CheckRow:
    name: str
    outcome: str  # passed | failed | skipped
    code: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str  # credential | qr
    checks: list[CheckRow]
    height: int
    credential_hash: str | None = None
    anchored: bool = False  # the hash is anchored on this chain (it has an anchor page)

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.outcome == "passed" for c in self.checks)

    @property
    def failed(self) -> list[CheckRow]:
        return [c for c in self.checks if c.outcome == "failed"]


def verify_text(app: Application, text: str, now_ms: int) -> Verdict:
    """Verify a pasted credential or QR pass; :class:`BadRequest` when it is neither."""
    text = text.strip()
    if not text:
        raise BadRequest("nothing to verify", hint="Paste a credential (JSON) or a QR pass text.")
    if len(text) > MAX_INPUT_CHARS:
        raise BadRequest(f"the text is longer than {MAX_INPUT_CHARS} characters")
    if text.startswith(DCC_PREFIX):
        return verify_qr(app, text, now_ms)
    try:
        credential = json.loads(text)
    except (ValueError, RecursionError):
        raise BadRequest(
            "the text is neither JSON nor a QR pass",
            hint=f"Paste the whole credential (a JSON object) or the pass text that starts "
            f"with {DCC_PREFIX}",
        ) from None
    if not isinstance(credential, dict):
        raise BadRequest("a credential is a JSON object")
    return _verify_credential(app, credential, now_ms)


def _outcome(ok: bool | None) -> str:
    return "skipped" if ok is None else "passed" if ok else "failed"


def _verify_credential(app: Application, credential: dict[str, Any], now_ms: int) -> Verdict:
    result = verify_credential(app, credential, now_ms)
    rows = [CheckRow(c.check, _outcome(c.ok), c.code, c.reason) for c in result.checks]
    digest = result.credential_hash.hex() if result.credential_hash else None
    return Verdict("credential", rows, result.height, digest, result.anchor is not None)


# --- QR passes -------------------------------------------------------------------------------


class _Fail(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass
class _QrFacts:
    app: Application
    decoded: DecodedQr
    issuer_org: str = ""
    anchor: CertAnchor | None = None


def _method_key(app: Application, kid: bytes) -> bytes | None:
    """The public key a ``<member DID>#key-N`` key id names on this chain, else None."""
    did, _, fragment = kid.decode("utf-8", "replace").partition("#")
    try:
        chain_id, identity_id = parse_did(did)
        member: Identity = app.query("identity", "get", {"id": identity_id})
    except GovchainError:
        return None
    position = fragment[4:]
    if chain_id != app.chain_id or not fragment.startswith("key-") or not position.isdigit():
        return None
    if not 1 <= int(position) <= len(member.keys):
        return None
    return member.keys[int(position) - 1].public_key


def _check_issuer(f: _QrFacts) -> str:
    claims = f.decoded.claims
    try:
        chain_id, org = parse_did(claims.iss or "" if claims else "")
    except GovchainError:
        raise _Fail("CERT_UNKNOWN_ISSUER", "the pass's issuer is not a govchain DID") from None
    if chain_id != f.app.chain_id:
        raise _Fail("CERT_WRONG_CHAIN", f"the issuer's DID is of chain {chain_id!r}")
    try:
        f.app.query("identity", "org", {"id": org})
    except GovchainError:
        raise _Fail("CERT_UNKNOWN_ISSUER", f"no organisation {org!r} on this chain") from None
    f.issuer_org = org
    return org


def _check_anchor(f: _QrFacts) -> str:
    extra: Mapping[str, Any] = (f.decoded.claims.claims if f.decoded.claims else None) or {}
    try:
        digest = bytes.fromhex(str(extra.get("hash", "")))
        f.anchor = f.app.query("certs", "get", {"credential_hash": digest})
    except (ValueError, GovchainError):
        raise _Fail("CERT_NOT_ANCHORED", "the pass names no credential anchored here") from None
    anchor = f.anchor
    assert anchor is not None
    if anchor.issuer_org != f.issuer_org or anchor.credential_type != extra.get("type"):
        raise _Fail("CERT_ANCHOR_MISMATCH", "anchored for another issuer or type")
    return f"anchored at height {anchor.height} as {anchor.credential_type}"


def _check_key(f: _QrFacts) -> str:
    assert f.anchor is not None
    height = f.anchor.height
    kid = f.decoded.kid or b""
    _, member_id = parse_did(kid.decode("utf-8", "replace").partition("#")[0])
    member: Identity = f.app.query("identity", "get", {"id": member_id}, height)
    if member.org != f.issuer_org or member.kind != "member":
        raise _Fail("CERT_KEY_NOT_ISSUER", f"{member.id} is not a member of {f.issuer_org}")
    if member.status != "active" or not set(member.roles) & set(ANCHOR_ROLES):
        raise _Fail("CERT_KEY_NOT_ISSUER", f"{member.id} held no issuing role at height {height}")
    public_key = _method_key(f.app, kid) or b""
    status = f.app.query("identity", "key_at", {"public_key": public_key, "height": height})
    if status.identity != member.id or not status.valid:
        raise _Fail("CERT_KEY_NOT_VALID", f"the key was not valid at height {height}")
    return f"{member.id}, valid at the anchoring height {height}"


def _check_status(f: _QrFacts) -> str:
    assert f.anchor is not None
    status: CertStatus = f.app.query(
        "certs", "status", {"credential_hash": f.anchor.credential_hash}
    )
    if status.status == "revoked":
        raise _Fail("CERT_REVOKED", f"revoked at height {status.updated_height}")
    if status.status == "suspended":
        raise _Fail("CERT_SUSPENDED", f"suspended at height {status.updated_height}")
    return "active"


_QR_STEPS: tuple[tuple[str, Callable[[_QrFacts], str]], ...] = (
    ("issuer", _check_issuer),
    ("anchor", _check_anchor),
    ("key", _check_key),
    ("status", _check_status),
)


def verify_qr(app: Application, text: str, now_ms: int) -> Verdict:
    decoded = decode_qr_payload(
        text, key_or_cert_resolver=lambda kid: _method_key(app, kid), now=now_ms // 1000
    )
    rows = [CheckRow(str(s.step), str(s.status), s.reason or "", s.message) for s in decoded.steps]
    facts = _QrFacts(app, decoded)
    failed = not decoded.ok
    for name, check in _QR_STEPS:
        if failed:
            rows.append(CheckRow(name, "skipped", "", "not checked: an earlier check failed"))
            continue
        try:
            rows.append(CheckRow(name, "passed", "", check(facts)))
        except _Fail as fail:
            rows.append(CheckRow(name, "failed", fail.code, fail.reason))
            failed = True
        except GovchainError as exc:
            rows.append(CheckRow(name, "failed", exc.code, exc.message))
            failed = True
    digest = facts.anchor.credential_hash.hex() if facts.anchor else None
    return Verdict("qr", rows, app.info().height, digest, facts.anchor is not None)

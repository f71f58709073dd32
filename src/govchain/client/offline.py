"""Offline verification of a credential with its :class:`VerificationBundle` — no network.

:func:`verify_bundle` needs only the chain's trust anchor (chain id, genesis hash, node keys) and
the time. It runs every check of :data:`BUNDLE_CHECKS` and names each one's outcome:

    format         a ``govchain-bundle-v1`` bundle carrying a VC 2.0 credential (BUNDLE_MALFORMED,
                   CRED_MALFORMED)
    chain          the bundle, its header, the issuer's and the key's DIDs are of the trusted chain
                   and genesis (BUNDLE_WRONG_CHAIN)
    header         the header's hash is computed from its bytes and signed by a trusted node key
                   (BUNDLE_UNTRUSTED_HEADER)
    proofs         each record's exact raw bytes are proven against the header's state root, under
                   the key the verifier derives itself (BUNDLE_BAD_PROOF)
    anchor         the proven anchor is of ``compute_credential_hash(credential)``, its issuer,
                   type and validity window (BUNDLE_ANCHOR_MISMATCH)
    signature      the Data Integrity proof verifies with the key of the proven identity record
                   (CRED_BAD_PROOF, CRED_MALFORMED, ...)
    key            that key belonged to a member of the issuer and was valid at the anchoring
                   height (BUNDLE_KEY_NOT_VALID)
    accreditation  the issuer was accredited for the type at the anchoring height
                   (BUNDLE_NOT_ACCREDITED)
    validity       validFrom <= now <= validUntil (BUNDLE_EXPIRED, CRED_NOT_YET_VALID)
    status         active at the header's height (BUNDLE_REVOKED, BUNDLE_SUSPENDED)
    freshness      with ``max_age_ms``: the header is at most that old (BUNDLE_STALE)

Issuing roles at the anchoring height: when the signing member is the anchor's submitter, the
certs contract checked its role when it accepted the anchor; otherwise the member's record at the
header's height must show it active with an issuing role. See :mod:`govchain.credentials.bundle`
for what "at the anchoring height" can and cannot prove from one header.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from govchain.client.verify import TrustAnchor
from govchain.contracts.certs_records import (
    ANCHOR_ROLES,
    CertAnchor,
    CertStatus,
    anchor_state_key,
    status_state_key,
)
from govchain.contracts.did import parse_did
from govchain.contracts.governance_actions import Accreditation, accreditation_state_key
from govchain.contracts.identity import Identity, identity_state_key, is_key_valid_at
from govchain.credentials.bundle import BUNDLE_FORMAT, BundleState, VerificationBundle
from govchain.credentials.data_integrity import verify_proof
from govchain.credentials.status_list import BitstringStatusListEntry
from govchain.credentials.vc import (
    check_credential,
    check_validity_window,
    compute_credential_hash,
    get_credential_types,
    get_issuer_id,
    parse_datetime_stamp,
)
from govchain.crypto.signing import ED25519, get_scheme
from govchain.encoding import decode
from govchain.errors import GovchainError
from govchain.merkle import smt
from govchain.types import BlockHeader, compute_block_hash, header_sign_bytes

__all__ = [
    "BUNDLE_CHECKS",
    "BundleCheck",
    "BundleVerification",
    "verify_bundle",
]

_T = TypeVar("_T")

BUNDLE_CHECKS = (
    "format",
    "chain",
    "header",
    "proofs",
    "anchor",
    "signature",
    "key",
    "accreditation",
    "validity",
    "status",
    "freshness",
)


@dataclass(frozen=True, slots=True)
class BundleCheck:
    """One named check: ``ok`` is None when it could not run (``reason`` says why)."""

    check: str
    ok: bool | None
    code: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class BundleVerification:
    checks: list[BundleCheck]
    height: int | None = None  # the header's height
    header_time_ms: int | None = None

    @property
    def valid(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[BundleCheck]:
        return [c for c in self.checks if c.ok is False]

    @property
    def code(self) -> str:
        """The first failed check's code ("" when valid)."""
        return next((c.code for c in self.checks if c.ok is False), "")

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "height": self.height,
            "header_time_ms": self.header_time_ms,
            "checks": [c.to_json() for c in self.checks],
        }


class _Fail(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class _Skip(Exception):
    pass


class _Facts:
    """What the checks learn from each other."""

    def __init__(self, bundle: Any, trust: TrustAnchor) -> None:
        self.bundle = bundle
        self.trust = trust
        self.vc: Mapping[str, Any] = {}
        self.issuer_org = ""
        self.method = ""
        self.member_id = ""
        self.key_position = 0
        self.header: BlockHeader | None = None
        self.anchor: CertAnchor | None = None
        self.status: CertStatus | None = None
        self.identity: Identity | None = None
        self.accreditation: Accreditation | None = None
        self.public_key: bytes | None = None
        self.formed = False
        self.proven = False


def _unhex(value: str | None, what: str) -> bytes:
    try:
        return bytes.fromhex(value or "")
    except ValueError:
        raise _Fail("BUNDLE_MALFORMED", f"{what} is not hex") from None


# --- the checks ------------------------------------------------------------------------------


def _check_format(f: _Facts) -> str:
    b = f.bundle
    if not isinstance(b, VerificationBundle):
        raise _Fail("BUNDLE_MALFORMED", "not a VerificationBundle")
    if b.format != BUNDLE_FORMAT:
        raise _Fail("BUNDLE_MALFORMED", f"format {b.format[:40]!r}, expected {BUNDLE_FORMAT}")
    if b.credential is None:
        raise _Fail("BUNDLE_MALFORMED", "the bundle carries no credential")
    f.vc = b.credential
    check_credential(f.vc)
    proof = f.vc.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    fragment = method.partition("#")[2] if isinstance(method, str) else ""
    if not isinstance(method, str) or not fragment.startswith("key-") or not fragment[4:].isdigit():
        raise _Fail("BUNDLE_MALFORMED", "the proof names no <member DID>#key-N method")
    f.method, f.key_position = method, int(fragment[4:])
    f.formed = True
    return BUNDLE_FORMAT


def _check_chain(f: _Facts) -> str:
    if not f.formed:
        raise _Skip("the bundle is malformed")
    b, trust = f.bundle, f.trust
    if b.chain_id != trust.chain_id:
        raise _Fail("BUNDLE_WRONG_CHAIN", f"bundle of chain {b.chain_id!r}, not {trust.chain_id!r}")
    if _unhex(b.genesis_hash, "genesis_hash") != trust.genesis_hash:
        raise _Fail("BUNDLE_WRONG_CHAIN", "the bundle's genesis hash is not the trusted one")
    issuer_chain, f.issuer_org = parse_did(get_issuer_id(f.vc))
    key_chain, f.member_id = parse_did(f.method.partition("#")[0])
    for what, chain in (("issuer", issuer_chain), ("signing key", key_chain)):
        if chain != trust.chain_id:
            raise _Fail("BUNDLE_WRONG_CHAIN", f"the {what}'s DID is of chain {chain!r}")
    return f"chain {trust.chain_id}"


def _check_header(f: _Facts) -> str:
    if not f.formed:
        raise _Skip("the bundle is malformed")
    raw = _unhex(f.bundle.header.header_raw, "header_raw")
    try:
        header = decode(raw, BlockHeader)
    except (msgspec.DecodeError, msgspec.ValidationError, GovchainError):
        raise _Fail("BUNDLE_MALFORMED", "header_raw is not a block header") from None
    if header.chain_id != f.trust.chain_id:
        raise _Fail("BUNDLE_WRONG_CHAIN", f"the header is of chain {header.chain_id!r}")
    block_hash = compute_block_hash(header)
    signature = _unhex(f.bundle.header.proposer_signature, "proposer_signature")
    if header.height == 0:
        ok = block_hash == f.trust.genesis_hash
    else:
        ok = header.proposer in f.trust.node_keys and get_scheme(ED25519).verify(
            header.proposer, header_sign_bytes(block_hash), signature
        )
    if not ok:
        raise _Fail(
            "BUNDLE_UNTRUSTED_HEADER", f"block {header.height} is not signed by a trusted node"
        )
    f.header = header
    return f"block {header.height} signed by a trusted node"


def _prove(f: _Facts, entry: BundleState, key: bytes, what: str) -> bytes | None:
    assert f.header is not None
    if _unhex(entry.key, f"{what} key") != key:
        raise _Fail("BUNDLE_BAD_PROOF", f"the {what} proof is for another key")
    value = None if entry.value is None else _unhex(entry.value, f"{what} value")
    try:
        proof = smt.decode_state_proof(_unhex(entry.proof, f"{what} proof"))
        smt.verify_state_proof(f.header.state_root, key, value, proof)
    except (GovchainError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _Fail("BUNDLE_BAD_PROOF", f"the {what} proof does not verify: {exc}") from None
    return value


def _record(raw: bytes | None, type_: type[_T], code: str, what: str) -> _T:
    if raw is None:
        raise _Fail(code, f"the state proves there is no {what}")
    try:
        return decode(raw, type_)
    except (msgspec.DecodeError, msgspec.ValidationError, GovchainError):
        raise _Fail("BUNDLE_BAD_PROOF", f"the proven {what} record does not decode") from None


def _check_proofs(f: _Facts) -> str:
    if f.header is None or not f.issuer_org:
        raise _Skip("the header or the chain is not trusted")
    b = f.bundle
    digest = _unhex(b.credential_hash, "credential_hash")
    anchor_raw = _prove(f, b.anchor, anchor_state_key(digest), "anchor")
    status_raw = _prove(f, b.status, status_state_key(digest), "status")
    identity_raw = _prove(f, b.identity, identity_state_key(f.member_id), "identity")
    f.anchor = _record(anchor_raw, CertAnchor, "BUNDLE_ANCHOR_MISMATCH", "anchor")
    f.status = _record(status_raw, CertStatus, "BUNDLE_ANCHOR_MISMATCH", "status")
    f.identity = _record(identity_raw, Identity, "BUNDLE_KEY_NOT_VALID", "identity")
    key = accreditation_state_key(f.anchor.issuer_org, f.anchor.credential_type)
    accreditation_raw = _prove(f, b.accreditation, key, "accreditation")
    if accreditation_raw is not None:
        f.accreditation = _record(accreditation_raw, Accreditation, "", "accreditation")
    f.proven = True
    return f"anchor, status, identity and accreditation proven at height {f.header.height}"


def _to_ms(value: Any, name: str) -> int | None:
    return None if value is None else int(parse_datetime_stamp(value, field=name) * 1000)


def _check_anchor(f: _Facts) -> str:
    if not f.proven or f.anchor is None:
        raise _Skip("the records are not proven")
    anchor, digest = f.anchor, compute_credential_hash(f.vc)
    if digest != anchor.credential_hash or digest.hex() != f.bundle.credential_hash:
        raise _Fail("BUNDLE_ANCHOR_MISMATCH", "the credential's hash is not the anchored one")
    if anchor.issuer_org != f.issuer_org:
        raise _Fail("BUNDLE_ANCHOR_MISMATCH", f"anchored for issuer {anchor.issuer_org!r}")
    if anchor.credential_type not in get_credential_types(f.vc):
        raise _Fail("BUNDLE_ANCHOR_MISMATCH", f"anchored as type {anchor.credential_type!r}")
    window = (_to_ms(f.vc.get("validFrom"), "validFrom"), _to_ms(f.vc.get("validUntil"), "u"))
    if window != (anchor.valid_from_ms, anchor.valid_until_ms):
        raise _Fail("BUNDLE_ANCHOR_MISMATCH", "the validity window differs from the anchored one")
    return f"anchored at height {anchor.height} (assurance {anchor.assurance_level})"


def _resolve(f: _Facts, method: str) -> bytes:
    assert f.identity is not None
    if method != f.method or not 1 <= f.key_position <= len(f.identity.keys):
        raise LookupError(f"{f.member_id} has no key-{f.key_position}")
    f.public_key = f.identity.keys[f.key_position - 1].public_key
    return f.public_key


def _check_signature(f: _Facts) -> str:
    if not f.proven or f.identity is None:
        raise _Skip("the identity record is not proven")
    result = verify_proof(f.vc, resolve_key=lambda m: _resolve(f, m))
    failed = result.failure
    if failed is not None:
        raise _Fail(failed.code, f"{failed.name}: {failed.reason}")
    return "Ed25519 signature verifies with the proven key"


def _check_key(f: _Facts) -> str:
    member, anchor = f.identity, f.anchor
    if member is None or anchor is None or f.public_key is None:
        raise _Skip("the key could not be resolved")
    if member.id != f.member_id or member.kind != "member" or member.org != f.issuer_org:
        raise _Fail("BUNDLE_KEY_NOT_VALID", f"{f.member_id} is not a member of {f.issuer_org}")
    if not is_key_valid_at(member, f.public_key, anchor.height):
        raise _Fail(
            "BUNDLE_KEY_NOT_VALID",
            f"key-{f.key_position} of {member.id} was not valid at the anchoring height "
            f"{anchor.height} (rotated or revoked)",
        )
    if member.id != anchor.submitter and (
        member.status != "active" or not set(member.roles) & set(ANCHOR_ROLES)
    ):
        raise _Fail("BUNDLE_KEY_NOT_VALID", f"{member.id} holds no issuing role")
    return f"{member.id} key-{f.key_position}, valid at height {anchor.height}"


def _check_accreditation(f: _Facts) -> str:
    if not f.proven or f.anchor is None:
        raise _Skip("the records are not proven")
    record, h = f.accreditation, f.anchor.height
    what = f"{f.anchor.issuer_org} for {f.anchor.credential_type} at the anchoring height {h}"
    if record is None or record.accredited_height > h:
        raise _Fail("BUNDLE_NOT_ACCREDITED", f"the state does not prove {what}")
    if record.revoked_height is not None and record.revoked_height <= h:
        raise _Fail("BUNDLE_NOT_ACCREDITED", f"accreditation revoked before: {what}")
    return f"accredited: {what}"


def _check_validity(f: _Facts, now_ms: int) -> str:
    if not f.formed:
        raise _Skip("the bundle is malformed")
    try:
        check_validity_window(f.vc, now_ms)
    except GovchainError as exc:
        code = "BUNDLE_EXPIRED" if exc.code == "CRED_EXPIRED" else exc.code
        raise _Fail(code, exc.message) from None
    return f"valid from {f.vc.get('validFrom', '-')} until {f.vc.get('validUntil', '-')}"


def _check_status(f: _Facts) -> str:
    status, anchor = f.status, f.anchor
    if status is None or anchor is None or f.header is None:
        raise _Skip("the records are not proven")
    if status.credential_hash != anchor.credential_hash or (
        status.status_index != anchor.status_index
    ):
        raise _Fail("BUNDLE_ANCHOR_MISMATCH", "the status record is not the anchor's")
    entries = f.vc.get("credentialStatus")
    for raw in entries if isinstance(entries, list) else [] if entries is None else [entries]:
        if BitstringStatusListEntry.from_json(raw).status_list_index != status.status_index:
            raise _Fail("BUNDLE_ANCHOR_MISMATCH", "credentialStatus names another index")
    when = f"at height {status.updated_height}: {status.reason_code}"
    if status.status == "revoked":
        raise _Fail("BUNDLE_REVOKED", f"revoked {when}")
    if status.status == "suspended":
        raise _Fail("BUNDLE_SUSPENDED", f"suspended {when}")
    return f"active at height {f.header.height}"


def _check_freshness(f: _Facts, now_ms: int, max_age_ms: int | None) -> str:
    if f.header is None:
        raise _Skip("the header is not trusted")
    age = now_ms - f.header.time_ms
    if max_age_ms is None:
        return f"header {age} ms old (no maximum age asked)"
    if age > max_age_ms:
        raise _Fail("BUNDLE_STALE", f"the header is {age} ms old; at most {max_age_ms} allowed")
    return f"header {age} ms old (at most {max_age_ms})"


def _run(name: str, fn: Callable[[], str]) -> BundleCheck:
    try:
        return BundleCheck(name, True, "", fn())
    except _Fail as failed:
        return BundleCheck(name, False, failed.code, failed.reason)
    except _Skip as skipped:
        return BundleCheck(name, None, "", f"not checked: {skipped}")
    except GovchainError as exc:
        code = "BUNDLE_WRONG_CHAIN" if exc.code == "IDENTITY_BAD_DID" else exc.code
        return BundleCheck(name, False, code, exc.message)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return BundleCheck(name, False, "BUNDLE_MALFORMED", str(exc)[:200])


def verify_bundle(
    bundle: VerificationBundle,
    trust: TrustAnchor,
    now_ms: int,
    max_age_ms: int | None = None,
) -> BundleVerification:
    """Run every check of :data:`BUNDLE_CHECKS` on a bundle, with no network; never raises for
    bad input — read the result (``valid``, ``code`` of the first failure, ``checks``)."""
    f = _Facts(bundle, trust)
    steps: list[tuple[str, Callable[[], str]]] = [
        ("format", lambda: _check_format(f)),
        ("chain", lambda: _check_chain(f)),
        ("header", lambda: _check_header(f)),
        ("proofs", lambda: _check_proofs(f)),
        ("anchor", lambda: _check_anchor(f)),
        ("signature", lambda: _check_signature(f)),
        ("key", lambda: _check_key(f)),
        ("accreditation", lambda: _check_accreditation(f)),
        ("validity", lambda: _check_validity(f, now_ms)),
        ("status", lambda: _check_status(f)),
        ("freshness", lambda: _check_freshness(f, now_ms, max_age_ms)),
    ]
    checks = [_run(name, fn) for name, fn in steps]
    header = f.header
    return BundleVerification(
        checks,
        None if header is None else header.height,
        None if header is None else header.time_ms,
    )

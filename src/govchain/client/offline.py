"""Offline verification of a credential with its :class:`VerificationBundle` — no network.

:func:`verify_bundle` needs only the chain's trust anchor (chain id, genesis hash, node keys; for
finality certificates the founding peers by node id) and the time. It runs every check of
:data:`BUNDLE_CHECKS` and names each one's outcome:

    format         a ``govchain-bundle-v3`` (or v2) bundle carrying a VC 2.0 credential
                   (BUNDLE_MALFORMED, CRED_MALFORMED)
    chain          the bundle, its headers, the issuer's and the key's DIDs are of the trusted
                   chain and genesis (BUNDLE_WRONG_CHAIN)
    header         both headers' hashes are computed from their bytes; the recent one carries a
                   finality certificate of a quorum of the founding peers, or is signed by a
                   trusted node key; the anchoring one's hash is proven in the recent state's
                   block-hash history, or (v2) it is trusted like the recent one
                   (BUNDLE_UNTRUSTED_HEADER, BUNDLE_BAD_PROOF; BUNDLE_NO_FINALITY when finality
                   is required)
    proofs         each record's exact raw bytes are proven against its header's state root, under
                   the key the verifier derives itself; the issuance header is the anchoring
                   block's (BUNDLE_BAD_PROOF)
    anchor         the proven anchor is of ``compute_credential_hash(credential)``, its issuer,
                   type and validity window (BUNDLE_ANCHOR_MISMATCH)
    signature      the Data Integrity proof verifies with the key of the proven identity record
                   (CRED_BAD_PROOF, CRED_MALFORMED, ...)
    key            at the anchoring height, that key was valid and its holder an active member of
                   the issuer with an issuing role (BUNDLE_KEY_NOT_VALID)
    accreditation  at the anchoring height, the issuer was active and accredited for the type
                   (BUNDLE_NOT_ACCREDITED)
    schema         credentialSubject matches the anchored schema version (BUNDLE_UNKNOWN_SCHEMA,
                   CRED_SCHEMA_INVALID)
    validity       validFrom <= now <= validUntil (BUNDLE_EXPIRED, CRED_NOT_YET_VALID)
    status         active at the recent header's height (BUNDLE_REVOKED, BUNDLE_SUSPENDED)
    freshness      with ``max_age_ms``: the recent header is at most that old (BUNDLE_STALE)

The record-level checks (anchor, key, accreditation, schema, validity, status) are
:mod:`govchain.contracts.certs_checks`, the very checker online verification runs, over the same
records as they stood at the same heights: the two answer alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from govchain.client.verify import TrustAnchor
from govchain.contracts.certs_checks import (
    OFFLINE_CODES,
    RecordProblem,
    check_accreditation,
    check_anchor_matches,
    check_issuing_key,
    check_schema,
    check_status,
    check_validity,
    get_problem_code,
)
from govchain.contracts.certs_records import (
    CertAnchor,
    CertStatus,
    SchemaRecord,
    anchor_state_key,
    schema_state_key,
    status_state_key,
)
from govchain.contracts.did import parse_did
from govchain.contracts.governance_actions import Accreditation, accreditation_state_key
from govchain.contracts.identity import Identity, identity_state_key
from govchain.credentials.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_FORMATS,
    BundleHeader,
    BundleState,
    VerificationBundle,
)
from govchain.credentials.data_integrity import verify_proof
from govchain.credentials.vc import check_credential, compute_credential_hash, get_issuer_id
from govchain.crypto.signing import ED25519, get_scheme
from govchain.encoding import decode
from govchain.errors import GovchainError
from govchain.merkle import smt
from govchain.types import (
    BlockHeader,
    block_hash_state_key,
    compute_block_hash,
    header_sign_bytes,
)
from govchain.types.finality import FinalityCertificate, get_certificate_problem

__all__ = [
    "BUNDLE_CHECKS",
    "BundleCheck",
    "BundleVerification",
    "UntrustedHeader",
    "prove_bundle_state",
    "verify_bundle",
    "verify_bundle_header",
    "verify_issuance_header",
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
    "schema",
    "validity",
    "status",
    "freshness",
)


class BundleCheck(msgspec.Struct, frozen=True):
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
    height: int | None = None  # the recent header's height
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


class UntrustedHeader(GovchainError):
    """A signed header or a state proof a verifier was given does not hold."""

    code = "BUNDLE_UNTRUSTED_HEADER"
    status = 422
    title = "Untrusted header or proof"
    default_hint = "Export the file again from a node of the trusted network."


class _Fail(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class _Skip(Exception):
    pass


@dataclass
class _Trust:
    anchor: TrustAnchor
    peers: Mapping[str, bytes] | None  # founding peers by node id (finality certificates)
    require_finality: bool


class _Facts:
    """What the checks learn from each other."""

    def __init__(self, bundle: Any, trust: _Trust) -> None:
        self.bundle = bundle
        self.trust = trust
        self.vc: Mapping[str, Any] = {}
        self.issuer_org = ""
        self.method = ""
        self.member_id = ""
        self.key_position = 0
        self.header: BlockHeader | None = None  # the recent one: anchor and status
        self.issued: BlockHeader | None = None  # the anchoring block's: the issuance facts
        self.anchor: CertAnchor | None = None
        self.status: CertStatus | None = None
        self.identity: Identity | None = None
        self.org: Identity | None = None
        self.accreditation: Accreditation | None = None
        self.schema: SchemaRecord | None = None
        self.public_key: bytes | None = None
        self.formed = False
        self.proven = False

    def where(self) -> str:
        assert self.anchor is not None
        return f"at the anchoring height {self.anchor.height}"


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
    if b.format not in BUNDLE_FORMATS:
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
    return b.format


def _check_chain(f: _Facts) -> str:
    if not f.formed:
        raise _Skip("the bundle is malformed")
    b, trust = f.bundle, f.trust.anchor
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


def _finality_problem(t: _Trust, raw: bytes, header: BlockHeader, block_hash: bytes) -> str | None:
    assert t.peers is not None
    try:
        cert = decode(raw, FinalityCertificate)
    except (msgspec.DecodeError, msgspec.ValidationError, GovchainError):
        return "the finality certificate does not decode"
    if cert.height != header.height:
        return f"the finality certificate is for height {cert.height}"
    return get_certificate_problem(
        cert,
        t.anchor.chain_id,
        t.peers,
        block_hash=block_hash,
        state_root=header.state_root,
    )


def _decode_header(t: _Trust, entry: BundleHeader, what: str) -> BlockHeader:
    raw = _unhex(entry.header_raw, f"{what} header_raw")
    try:
        header = decode(raw, BlockHeader)
    except (msgspec.DecodeError, msgspec.ValidationError, GovchainError):
        raise _Fail("BUNDLE_MALFORMED", f"the {what} header_raw is not a block header") from None
    if header.chain_id != t.anchor.chain_id:
        raise _Fail("BUNDLE_WRONG_CHAIN", f"the {what} header is of chain {header.chain_id!r}")
    return header


def _trust_header(t: _Trust, entry: BundleHeader, what: str) -> tuple[BlockHeader, str]:
    """The decoded header if trusted, and on what basis."""
    header = _decode_header(t, entry, what)
    trust = t.anchor
    block_hash = compute_block_hash(header)
    if entry.finality is not None and t.peers is not None:
        problem = _finality_problem(t, _unhex(entry.finality, "finality"), header, block_hash)
        if problem is not None:
            raise _Fail("BUNDLE_UNTRUSTED_HEADER", f"block {header.height}: {problem}")
        return header, "finalised by a quorum of the founding peers"
    if t.require_finality and header.height != 0:
        raise _Fail("BUNDLE_NO_FINALITY", f"block {header.height} carries no finality certificate")
    signature = _unhex(entry.proposer_signature, "proposer_signature")
    if header.height == 0:
        ok = block_hash == trust.genesis_hash
    else:
        ok = header.proposer in trust.node_keys and get_scheme(ED25519).verify(
            header.proposer, header_sign_bytes(block_hash), signature
        )
    if not ok:
        raise _Fail(
            "BUNDLE_UNTRUSTED_HEADER", f"block {header.height} is not signed by a trusted node"
        )
    return header, "signed by a trusted node"


def _check_header(f: _Facts) -> str:
    if not f.formed:
        raise _Skip("the bundle is malformed")
    f.header, basis = _trust_header(f.trust, f.bundle.header, "recent")
    if f.bundle.issuance.header == f.bundle.header:
        f.issued = f.header
        return f"block {f.header.height} {basis}"
    f.issued, issued_basis = _trust_issuance(f.trust, f.bundle, f.header)
    return f"blocks {f.issued.height} ({issued_basis}) and {f.header.height} ({basis})"


def _trust_issuance(
    t: _Trust, bundle: VerificationBundle, recent: BlockHeader
) -> tuple[BlockHeader, str]:
    """The anchoring header (not the recent one) if trusted, and on what basis: its hash in
    the trusted recent state's block-hash history, else (v2) its own signature or certificate."""
    entry, history = bundle.issuance.header, bundle.issuance.history
    if history is None:
        return _trust_header(t, entry, "issuance")
    vouched = _vouched_header(t, recent, entry, history)
    return vouched, f"its hash in the history at height {recent.height}"


def _vouched_header(
    t: _Trust, recent: BlockHeader, entry: BundleHeader, history: BundleState
) -> BlockHeader:
    """The anchoring header, trusted because the trusted recent state holds its hash."""
    header = _decode_header(t, entry, "issuance")
    if header.height >= recent.height:
        raise _Fail(
            "BUNDLE_UNTRUSTED_HEADER",
            f"block {header.height} is not before the recent block {recent.height}",
        )
    proven = _prove(recent, history, block_hash_state_key(header.height), "block-hash history")
    if proven != compute_block_hash(header):
        raise _Fail(
            "BUNDLE_UNTRUSTED_HEADER",
            f"block {header.height} is not the one whose hash the state at height "
            f"{recent.height} records",
        )
    return header


def verify_bundle_header(
    entry: BundleHeader,
    trust: TrustAnchor,
    *,
    peers: Mapping[str, bytes] | None = None,
    require_finality: bool = False,
) -> BlockHeader:
    """A bundle-style signed header, decoded, when it is trusted on the same basis as a bundle's
    (finality certificate of a quorum of ``peers``, else a trusted node's signature); raises
    :class:`UntrustedHeader` with the reason otherwise."""
    try:
        header, _ = _trust_header(_Trust(trust, peers, require_finality), entry, "signed")
    except _Fail as failed:
        raise UntrustedHeader(failed.reason, reason_code=failed.code) from None
    return header


def verify_issuance_header(
    bundle: VerificationBundle,
    trust: TrustAnchor,
    *,
    peers: Mapping[str, bytes] | None = None,
    require_finality: bool = False,
) -> BlockHeader:
    """A bundle's anchoring header, decoded, when it is trusted as :func:`verify_bundle` trusts
    it (through the recent header's block-hash history, else on its own); raises
    :class:`UntrustedHeader` with the reason otherwise."""
    t = _Trust(trust, peers, require_finality)
    try:
        recent, _ = _trust_header(t, bundle.header, "recent")
        if bundle.issuance.header == bundle.header:
            return recent
        return _trust_issuance(t, bundle, recent)[0]
    except _Fail as failed:
        raise UntrustedHeader(failed.reason, reason_code=failed.code) from None


def prove_bundle_state(header: BlockHeader, entry: BundleState, key: bytes) -> bytes | None:
    """The value ``entry`` proves under ``key`` against ``header``'s state root; raises
    :class:`UntrustedHeader` (``BUNDLE_BAD_PROOF``) when the proof does not hold."""
    try:
        return _prove(header, entry, key, "state")
    except _Fail as failed:
        raise UntrustedHeader(failed.reason, reason_code=failed.code) from None


def _prove(header: BlockHeader, entry: BundleState, key: bytes, what: str) -> bytes | None:
    if _unhex(entry.key, f"{what} key") != key:
        raise _Fail("BUNDLE_BAD_PROOF", f"the {what} proof is for another key")
    value = None if entry.value is None else _unhex(entry.value, f"{what} value")
    try:
        proof = smt.decode_state_proof(_unhex(entry.proof, f"{what} proof"))
        smt.verify_state_proof(header.state_root, key, value, proof)
    except (GovchainError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _Fail("BUNDLE_BAD_PROOF", f"the {what} proof does not verify: {exc}") from None
    return value


def _record(raw: bytes | None, type_: type[_T], code: str, what: str) -> _T:
    if raw is None:
        raise _Fail(code, f"the state proves there is no {what}")
    return _decoded(raw, type_, what)


def _decoded(raw: bytes, type_: type[_T], what: str) -> _T:
    try:
        return decode(raw, type_)
    except (msgspec.DecodeError, msgspec.ValidationError, GovchainError):
        raise _Fail("BUNDLE_BAD_PROOF", f"the proven {what} record does not decode") from None


def _optional(raw: bytes | None, type_: type[_T], what: str) -> _T | None:
    return None if raw is None else _decoded(raw, type_, what)


def _check_proofs(f: _Facts) -> str:
    if f.header is None or f.issued is None or not f.issuer_org:
        raise _Skip("the headers or the chain are not trusted")
    b, recent, issued = f.bundle, f.header, f.issued
    digest = _unhex(b.credential_hash, "credential_hash")
    anchor_raw = _prove(recent, b.anchor, anchor_state_key(digest), "anchor")
    status_raw = _prove(recent, b.status, status_state_key(digest), "status")
    f.anchor = anchor = _record(anchor_raw, CertAnchor, "BUNDLE_ANCHOR_MISMATCH", "anchor")
    f.status = _record(status_raw, CertStatus, "BUNDLE_ANCHOR_MISMATCH", "status")
    if issued.height != anchor.height:
        raise _Fail(
            "BUNDLE_BAD_PROOF",
            f"the issuance header is of height {issued.height}, the anchor of {anchor.height}",
        )
    at = b.issuance
    org, credential_type = anchor.issuer_org, anchor.credential_type
    identity = _prove(issued, at.identity, identity_state_key(f.member_id), "identity")
    org_raw = _prove(issued, at.org, identity_state_key(org), "organisation")
    acc_key = accreditation_state_key(org, credential_type)
    accreditation = _prove(issued, at.accreditation, acc_key, "accreditation")
    schema_key = schema_state_key(credential_type, anchor.schema_version)
    schema = _prove(issued, at.schema, schema_key, "schema")
    f.identity = _optional(identity, Identity, "identity")
    f.org = _optional(org_raw, Identity, "organisation")
    f.accreditation = _optional(accreditation, Accreditation, "accreditation")
    f.schema = _optional(schema, SchemaRecord, "schema")
    f.proven = True
    return (
        f"anchor and status proven at height {recent.height}; identity, organisation, "
        f"accreditation and schema at the anchoring height {issued.height}"
    )


def _check_anchor(f: _Facts) -> str:
    if not f.proven or f.anchor is None:
        raise _Skip("the records are not proven")
    anchor, digest = f.anchor, compute_credential_hash(f.vc)
    if digest != anchor.credential_hash or digest.hex() != f.bundle.credential_hash:
        raise _Fail("BUNDLE_ANCHOR_MISMATCH", "the credential's hash is not the anchored one")
    return check_anchor_matches(f.vc, anchor, f.issuer_org)


def _resolve(f: _Facts, method: str) -> bytes:
    assert f.identity is not None
    if method != f.method or not 1 <= f.key_position <= len(f.identity.keys):
        raise LookupError(f"{f.member_id} has no key-{f.key_position}")
    f.public_key = f.identity.keys[f.key_position - 1].public_key
    return f.public_key


def _check_signature(f: _Facts) -> str:
    if not f.proven:
        raise _Skip("the records are not proven")
    if f.identity is None:
        raise _Fail("BUNDLE_KEY_NOT_VALID", f"the state proves there is no {f.member_id}")
    result = verify_proof(f.vc, resolve_key=lambda m: _resolve(f, m))
    failed = result.failure
    if failed is not None:
        raise _Fail(failed.code, f"{failed.name}: {failed.reason}")
    return "Ed25519 signature verifies with the proven key"


def _check_key(f: _Facts) -> str:
    if f.anchor is None or f.public_key is None:
        raise _Skip("the key could not be resolved")
    return check_issuing_key(
        f.identity, f.member_id, f.issuer_org, f.public_key, f.anchor.height, f.where()
    )


def _check_accreditation(f: _Facts) -> str:
    if not f.proven or f.anchor is None:
        raise _Skip("the records are not proven")
    a = f.anchor
    return check_accreditation(f.accreditation, f.org, a.issuer_org, a.credential_type, f.where())


def _check_schema(f: _Facts) -> str:
    if not f.proven or f.anchor is None:
        raise _Skip("the records are not proven")
    return check_schema(f.vc, f.anchor, f.schema)


def _check_validity(f: _Facts, now_ms: int) -> str:
    if not f.formed:
        raise _Skip("the bundle is malformed")
    return check_validity(f.vc, now_ms)


def _check_status(f: _Facts) -> str:
    status, anchor, header = f.status, f.anchor, f.header
    if status is None or anchor is None or header is None:
        raise _Skip("the records are not proven")
    return f"{check_status(f.vc, anchor, status)} at height {header.height}"


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
    except RecordProblem as problem:
        return BundleCheck(name, False, get_problem_code(problem, OFFLINE_CODES), problem.reason)
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
    *,
    peers: Mapping[str, bytes] | None = None,
    require_finality: bool = False,
) -> BundleVerification:
    """Run every check of :data:`BUNDLE_CHECKS` on a bundle, with no network; never raises for
    bad input — read the result (``valid``, ``code`` of the first failure, ``checks``).

    ``peers`` (node id -> key of the founding peers, :func:`~govchain.types.finality.
    founding_peer_keys`) lets a header be trusted on its finality certificate; with
    ``require_finality`` a header without one is refused (``BUNDLE_NO_FINALITY``)."""
    f = _Facts(bundle, _Trust(trust, peers, require_finality))
    steps: list[tuple[str, Callable[[], str]]] = [
        ("format", lambda: _check_format(f)),
        ("chain", lambda: _check_chain(f)),
        ("header", lambda: _check_header(f)),
        ("proofs", lambda: _check_proofs(f)),
        ("anchor", lambda: _check_anchor(f)),
        ("signature", lambda: _check_signature(f)),
        ("key", lambda: _check_key(f)),
        ("accreditation", lambda: _check_accreditation(f)),
        ("schema", lambda: _check_schema(f)),
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

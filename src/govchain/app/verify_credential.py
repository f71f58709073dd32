"""Online verification of a secured credential against the chain's state.

:func:`verify_credential` runs every check of :data:`CHECKS` and names each one's outcome, so an
answer says not only *whether* a credential is valid but which check failed and why:

    format         the VC Data Model 2.0 shape (CRED_MALFORMED)
    proof          a well-formed DataIntegrityProof, eddsa-jcs-2022, assertionMethod, canonical
                   (CRED_MALFORMED, CRED_UNSUPPORTED_CRYPTOSUITE, CRED_BAD_PROOF, ...)
    chain          the issuer's and the key's DIDs are of this chain (CERT_WRONG_CHAIN)
    issuer         the issuer DID is an active organisation here (CERT_UNKNOWN_ISSUER)
    anchor         the credential's hash is anchored for that issuer, type and validity window
                   (CERT_NOT_ANCHORED, CERT_ANCHOR_MISMATCH)
    key            the verification method ``<member DID>#key-N`` is a key of an active member of
                   the issuer holding an issuing role, valid at the anchoring height
                   (CERT_KEY_UNKNOWN, CERT_KEY_NOT_ISSUER, CERT_KEY_NOT_VALID)
    signature      the Ed25519 signature over the credential (CRED_BAD_PROOF)
    accreditation  the issuer was accredited for the type at the anchoring height
                   (CERT_NOT_ACCREDITED)
    schema         credentialSubject matches the anchored schema version (CERT_UNKNOWN_SCHEMA,
                   CRED_SCHEMA_INVALID)
    validity       validFrom <= now <= validUntil (CRED_NOT_YET_VALID, CRED_EXPIRED)
    status         active; not suspended (CERT_SUSPENDED) nor revoked (CERT_REVOKED); the
                   credential's status entry is its anchored index (CERT_STATUS_MISMATCH)

"At the anchoring height" reads the state after the anchoring block (``StoreState(store, h)``).
When the credential is not anchored, the key and accreditation checks are run against the latest
state (their reasons say so). The result carries the anchor and status records with state proofs
against the latest block's root, so the answer is checkable without trusting the node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from govchain.app.application import Application, StateProofResult
from govchain.app.readers import StoreState
from govchain.contracts.base import ReadContext
from govchain.contracts.certs_checks import (
    ONLINE_CODES,
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
    NAME,
    CertAnchor,
    CertStatus,
    SchemaRecord,
    anchor_state_key,
    get_anchor,
    get_status,
    schema_key,
    status_state_key,
)
from govchain.contracts.did import parse_did
from govchain.contracts.governance_actions import get_accreditation
from govchain.contracts.identity import Identity, get_identity, get_org
from govchain.credentials.data_integrity import ProofCheck, verify_proof
from govchain.credentials.errors import CredentialError
from govchain.credentials.vc import (
    VERIFIABLE_CREDENTIAL,
    check_credential,
    compute_credential_hash,
    get_credential_types,
    get_issuer_id,
)
from govchain.errors import GovchainError

__all__ = ["CHECKS", "CredentialCheck", "CredentialVerification", "verify_credential"]

CHECKS = (
    "format",
    "proof",
    "chain",
    "issuer",
    "anchor",
    "key",
    "signature",
    "accreditation",
    "schema",
    "validity",
    "status",
)
_PROOF_STEPS = ("proof", "cryptosuite", "purpose", "context", "canonical")


@dataclass(frozen=True, slots=True)
class CredentialCheck:
    """One named check: ``ok`` is None when it could not run (``reason`` says why)."""

    check: str
    ok: bool | None
    code: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "code": self.code, "reason": self.reason}


@dataclass
class CredentialVerification:
    checks: list[CredentialCheck]
    height: int  # the block whose state answered
    credential_hash: bytes | None = None
    anchor: CertAnchor | None = None
    status: CertStatus | None = None
    anchor_proof: StateProofResult | None = None
    status_proof: StateProofResult | None = None

    @property
    def valid(self) -> bool:
        return len(self.checks) == len(CHECKS) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[CredentialCheck]:
        return [c for c in self.checks if c.ok is False]


class _Fail(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class _Skip(Exception):
    pass


@dataclass
class _Facts:
    """What the checks learn from each other."""

    vc: Any
    chain_id: str
    latest: ReadContext
    store_state: Callable[[int], ReadContext]
    issuer_org: str | None = None
    credential_hash: bytes | None = None
    anchor: CertAnchor | None = None
    status: CertStatus | None = None
    proof: tuple[ProofCheck, ...] = ()
    member: Identity | None = None
    public_key: bytes | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def at_anchor(self) -> ReadContext:
        return self.latest if self.anchor is None else self.store_state(self.anchor.height)

    def where(self) -> str:
        if self.anchor is None:
            return f"at the latest height {self.latest.height} (the credential is not anchored)"
        return f"at the anchoring height {self.anchor.height}"

    def credential_type(self) -> str:
        if self.anchor is not None:
            return self.anchor.credential_type
        types = [t for t in get_credential_types(self.vc) if t != VERIFIABLE_CREDENTIAL]
        if not types:
            raise _Fail(
                "CRED_MALFORMED", "the credential names no type besides VerifiableCredential"
            )
        return types[0]


# --- the checks ------------------------------------------------------------------------------


def _check_format(f: _Facts) -> str:
    check_credential(f.vc)
    return "W3C VC Data Model 2.0"


def _resolve_method(f: _Facts, method: str) -> bytes:
    """The public key a ``<member DID>#key-N`` verification method names (any validity)."""
    did, _, fragment = method.partition("#")
    _, identity_id = parse_did(did)
    member = get_identity(f.latest, identity_id)
    if member is None or not fragment.startswith("key-") or not fragment[4:].isdigit():
        raise LookupError(f"{method[:100]!r} names no key on this chain")
    position = int(fragment[4:])
    if not 1 <= position <= len(member.keys):
        raise LookupError(f"{identity_id} has no key-{position}")
    f.member = member
    f.public_key = member.keys[position - 1].public_key
    return f.public_key


def _check_proof(f: _Facts) -> str:
    result = verify_proof(f.vc, resolve_key=lambda m: _resolve_method(f, m))
    f.proof = result.checks
    for step in result.checks:
        if step.name in _PROOF_STEPS and step.status == "failed":
            raise _Fail(step.code, f"{step.name}: {step.reason}")
    return "DataIntegrityProof eddsa-jcs-2022, assertionMethod"


def _check_chain(f: _Facts) -> str:
    issuer = get_issuer_id(f.vc)
    try:
        chain, org = parse_did(issuer)
    except GovchainError:
        raise _Fail(
            "CERT_UNKNOWN_ISSUER", f"the issuer {issuer[:80]!r} is not a govchain DID"
        ) from None
    if chain != f.chain_id:
        raise _Fail(
            "CERT_WRONG_CHAIN",
            f"the issuer's DID is of chain {chain!r}; this is chain {f.chain_id!r}",
        )
    f.issuer_org = org
    method = (f.vc.get("proof") or {}).get("verificationMethod", "")
    if isinstance(method, str) and method.startswith("did:govchain:"):
        try:
            key_chain, _ = parse_did(method.partition("#")[0])
        except GovchainError:
            return f"chain {chain}"
        if key_chain != f.chain_id:
            raise _Fail("CERT_WRONG_CHAIN", f"the signing key's DID is of chain {key_chain!r}")
    return f"chain {chain}"


def _check_issuer(f: _Facts) -> str:
    if f.issuer_org is None:
        raise _Skip("the issuer DID is not of this chain")
    org = get_org(f.latest, f.issuer_org)
    if org is None:
        raise _Fail("CERT_UNKNOWN_ISSUER", f"no organisation {f.issuer_org!r} on this chain")
    return f"{org.id} ({org.name})"


def _check_anchor(f: _Facts) -> str:
    if f.credential_hash is None:
        raise _Skip("the credential cannot be hashed")
    anchor = get_anchor(f.latest, f.credential_hash)
    if anchor is None:
        raise _Fail(
            "CERT_NOT_ANCHORED",
            f"no anchor for hash {f.credential_hash.hex()}: the credential was changed or never "
            "issued on this chain",
        )
    f.anchor = anchor
    return check_anchor_matches(f.vc, anchor, f.issuer_org)


def _check_key(f: _Facts) -> str:
    key_step = next((c for c in f.proof if c.name == "key"), None)
    if key_step is None or key_step.status == "skipped":
        raise _Skip("the proof is not well-formed")
    if key_step.status == "failed" or f.member is None or f.public_key is None:
        raise _Fail("CERT_KEY_UNKNOWN", key_step.reason or "the verification method is unknown")
    ctx = f.at_anchor()
    member = get_identity(ctx, f.member.id)
    return check_issuing_key(member, f.member.id, f.issuer_org, f.public_key, ctx.height, f.where())


def _check_signature(f: _Facts) -> str:
    step = next((c for c in f.proof if c.name == "signature"), None)
    if step is None or step.status == "skipped":
        raise _Skip("the key could not be resolved")
    if step.status == "failed":
        raise _Fail(step.code, step.reason)
    return "Ed25519 signature verifies"


def _check_accreditation(f: _Facts) -> str:
    if f.issuer_org is None:
        raise _Skip("the issuer is not of this chain")
    credential_type, ctx = f.credential_type(), f.at_anchor()
    return check_accreditation(
        get_accreditation(ctx, f.issuer_org, credential_type),
        get_org(ctx, f.issuer_org),
        f.issuer_org,
        credential_type,
        f.where(),
    )


def _check_schema(f: _Facts) -> str:
    if f.anchor is None:
        raise _Skip("no anchor names the schema version")
    key = schema_key(f.anchor.credential_type, f.anchor.schema_version)
    record = f.at_anchor().other(NAME).get_as(key, SchemaRecord)
    return check_schema(f.vc, f.anchor, record)


def _check_status(f: _Facts) -> str:
    if f.credential_hash is None or f.anchor is None:
        raise _Skip("the credential is not anchored")
    status = get_status(f.latest, f.credential_hash)
    f.status = status
    if status is None:
        raise _Fail("CERT_NOT_ANCHORED", "the credential has no status record")
    return check_status(f.vc, f.anchor, status)


def _run(name: str, f: _Facts, fn: Callable[[], str]) -> CredentialCheck:
    try:
        return CredentialCheck(name, True, "", fn())
    except _Fail as failed:
        return CredentialCheck(name, False, failed.code, failed.reason)
    except _Skip as skipped:
        return CredentialCheck(name, None, "", f"not checked: {skipped}")
    except RecordProblem as problem:
        return CredentialCheck(name, False, get_problem_code(problem, ONLINE_CODES), problem.reason)
    except GovchainError as exc:
        return CredentialCheck(name, False, exc.code, exc.message)


def verify_credential(
    app: Application, credential: Mapping[str, Any], now_ms: int
) -> CredentialVerification:
    """Run every check of :data:`CHECKS` on a secured credential against the latest state."""
    height = app.info().height

    def at(h: int) -> ReadContext:
        return ReadContext("certs", StoreState(app.store, h), h)

    f = _Facts(credential, app.chain_id, at(height), at)
    try:
        f.credential_hash = compute_credential_hash(credential)
    except (CredentialError, TypeError):
        f.credential_hash = None
    steps: list[tuple[str, Callable[[], str]]] = [
        ("format", lambda: _check_format(f)),
        ("proof", lambda: _check_proof(f)),
        ("chain", lambda: _check_chain(f)),
        ("issuer", lambda: _check_issuer(f)),
        ("anchor", lambda: _check_anchor(f)),
        ("key", lambda: _check_key(f)),
        ("signature", lambda: _check_signature(f)),
        ("accreditation", lambda: _check_accreditation(f)),
        ("schema", lambda: _check_schema(f)),
        ("validity", lambda: check_validity(f.vc, now_ms)),
        ("status", lambda: _check_status(f)),
    ]
    if not isinstance(credential, Mapping):
        checks = [CredentialCheck("format", False, "CRED_MALFORMED", "not a JSON object")]
        checks += [CredentialCheck(n, None, "", "not checked") for n in CHECKS[1:]]
        return CredentialVerification(checks, height)
    checks = [_run(name, f, fn) for name, fn in steps]
    result = CredentialVerification(checks, height, f.credential_hash, f.anchor, f.status)
    if f.credential_hash is not None:
        result.anchor_proof = app.prove_state(anchor_state_key(f.credential_hash), height)
        result.status_proof = app.prove_state(status_state_key(f.credential_hash), height)
    return result

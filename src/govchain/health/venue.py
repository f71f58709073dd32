"""Offline venue checks of health passes against a venue kit — no network, no node.

:func:`load_kit` checks a :class:`~govchain.health.kit.VenueKit` once: the genesis header against
the genesis document (and the pinned genesis hash, if the venue has one), the kit's header
against the founding nodes' keys, and every state proof against that header's root. It yields a
:class:`TrustedKit`: the health commission's pass-signing keys valid at the kit's height, its
accreditations, and its revocation and suspension snapshot. Errors (:class:`HealthError`):
``KIT_MALFORMED``, ``KIT_WRONG_CHAIN``, ``KIT_UNTRUSTED_HEADER``, ``KIT_BAD_PROOF``,
``KIT_ORG_INACTIVE``, ``KIT_BAD_ATTESTATION``. :func:`attest_kit` lets a member of the commission
sign the snapshot's digest, vouching that the revocation list is complete.

:func:`check_pass` then answers ADMIT or REFUSE for one QR text, naming each check of
:data:`VENUE_CHECKS` and the reason of the first that fails:

    kit           the kit is at most ``max_kit_age_hours`` old (KIT_STALE) and, if the policy
                  asks, its snapshot is attested by the commission (KIT_NOT_ATTESTED)
    prefix        ``HC1:`` (QR_BAD_PREFIX, QR_TOO_LARGE)
    base45        Base45 text (QR_BAD_BASE45)
    decompress    zlib, bounded (QR_BAD_COMPRESSION)
    cose          a COSE_Sign1 message (QR_BAD_COSE, QR_UNSUPPORTED_ALG)
    issuer        the key id names a pass-signing key of the kit's health commission
                  (PASS_UNKNOWN_ISSUER; PASS_WRONG_CHAIN for a key of another chain)
    signature     the COSE signature verifies with that key (QR_BAD_SIGNATURE)
    claims        a health pass of that commission (QR_BAD_CBOR, PASS_BAD_CLAIMS, PASS_WRONG_ISSUER)
    accreditation the commission is accredited for the pass type at the kit's height
                  (PASS_NOT_ACCREDITED)
    validity      nbf <= now <= exp (QR_NOT_YET_VALID, QR_EXPIRED)
    policy        the venue's rules: a negative test taken at most ``test_validity_hours`` ago
                  (PASS_POSITIVE, PASS_TEST_TOO_OLD, PASS_NOT_YET_VALID); a completed
                  vaccination course (PASS_INCOMPLETE_VACCINATION)
    revocation    not revoked or suspended in the kit's snapshot (PASS_REVOKED, PASS_SUSPENDED)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from govchain.contracts.certs_records import NAME as CERTS
from govchain.contracts.certs_records import flag_key
from govchain.contracts.did import did_of, parse_did
from govchain.contracts.governance_actions import Accreditation, accreditation_state_key
from govchain.contracts.health_records import AGGREGATE_ROLES
from govchain.contracts.identity import Identity, identity_state_key, is_key_valid_at
from govchain.credentials.bundle import BundleState
from govchain.credentials.qr import DecodedQr, QrStep, StepStatus, decode_qr_payload
from govchain.credentials.status_list import MIN_LIST_BITS, StatusList
from govchain.crypto.hashing import tagged_hash
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.encoding import decode, encode
from govchain.errors import GovchainError
from govchain.health.kit import KIT_FORMAT, CompactSnapshot, KitAttestation, VenueKit
from govchain.health.passes import HealthError, HealthPass, parse_pass_claims
from govchain.health.schemas import TEST_RESULT, VACCINATION
from govchain.merkle import smt
from govchain.types import (
    BlockHeader,
    compute_block_hash,
    compute_genesis_digest,
    header_sign_bytes,
)

__all__ = [
    "VENUE_CHECKS",
    "TrustedKit",
    "VenueCheck",
    "VenueDecision",
    "VenuePolicy",
    "attest_kit",
    "check_pass",
    "compute_snapshot_digest",
    "load_kit",
]

_SNAPSHOT_TAG = b"govchain/health/kit-snapshot/v1"

VENUE_CHECKS = (
    "kit",
    "prefix",
    "base45",
    "decompress",
    "cose",
    "issuer",
    "signature",
    "claims",
    "accreditation",
    "validity",
    "policy",
    "revocation",
)
_QR_STEPS = {
    QrStep.UNPREFIX: "prefix",
    QrStep.BASE45: "base45",
    QrStep.DECOMPRESS: "decompress",
    QrStep.COSE: "cose",
}


@dataclass(frozen=True, slots=True)
class VenuePolicy:
    """A venue's rules (parameters, not code)."""

    test_validity_hours: int = 72  # a test result admits for this long after sampling
    require_full_vaccination: bool = True
    max_kit_age_hours: int = 48  # refuse with a kit older than this: download a new one
    leeway_seconds: int = 300  # clock skew allowed on the pass's times
    require_attested: bool = False  # refuse kits whose snapshot the commission did not sign


@dataclass(frozen=True)
class TrustedKit:
    """What a checked kit lets a venue trust."""

    chain_id: str
    org: str
    height: int
    time_ms: int
    keys: dict[str, bytes]  # "<member DID>#key-N" -> Ed25519 public key
    accredited: frozenset[str]
    status_count: int
    revoked: frozenset[int]
    suspended: frozenset[int]
    block_hash: bytes = b""
    attested_by: str | None = None  # the key that attested the snapshot complete

    @property
    def org_did(self) -> str:
        return did_of(self.chain_id, self.org)


@dataclass(frozen=True, slots=True)
class VenueCheck:
    """One named check: ``ok`` is None when it did not run (an earlier check failed)."""

    check: str
    ok: bool | None
    code: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class VenueDecision:
    checks: list[VenueCheck]
    health_pass: HealthPass | None = None

    @property
    def admit(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def verdict(self) -> str:
        return "ADMIT" if self.admit else "REFUSE"

    @property
    def failure(self) -> VenueCheck | None:
        return next((c for c in self.checks if c.ok is False), None)

    @property
    def code(self) -> str:
        failed = self.failure
        return "" if failed is None else failed.code

    def to_json(self) -> dict[str, Any]:
        failed = self.failure
        return {
            "verdict": self.verdict,
            "code": self.code,
            "reason": "" if failed is None else failed.reason,
            "checks": [c.to_json() for c in self.checks],
            "pass": None if self.health_pass is None else self.health_pass.to_json(),
        }


# --- the kit ---------------------------------------------------------------------------------


def _unhex(value: str | None, what: str) -> bytes:
    try:
        return bytes.fromhex(value or "")
    except ValueError:
        raise HealthError(f"{what} is not hex", code="KIT_MALFORMED") from None


def _header(raw_hex: str, what: str) -> BlockHeader:
    try:
        return decode(_unhex(raw_hex, what), BlockHeader)
    except (msgspec.DecodeError, msgspec.ValidationError, GovchainError):
        raise HealthError(f"{what} is not a block header", code="KIT_MALFORMED") from None


def _check_anchor(kit: VenueKit, genesis_hash: bytes | None) -> bytes:
    if kit.format != KIT_FORMAT:
        raise HealthError(f"format {kit.format[:40]!r}, not {KIT_FORMAT}", code="KIT_MALFORMED")
    digest = _unhex(kit.genesis_hash, "genesis_hash")
    if genesis_hash is not None and digest != genesis_hash:
        raise HealthError("the kit is of another chain than the pinned one", code="KIT_WRONG_CHAIN")
    block0 = _header(kit.genesis_header, "genesis_header")
    consistent = (
        compute_block_hash(block0) == digest
        and block0.height == 0
        and block0.prev_hash == compute_genesis_digest(kit.genesis)
        and block0.chain_id == kit.genesis.chain_id == kit.chain_id
    )
    if not consistent:
        raise HealthError(
            "the genesis document, block and hash of the kit disagree", code="KIT_WRONG_CHAIN"
        )
    return digest


def _check_header(kit: VenueKit, genesis_hash: bytes) -> BlockHeader:
    header = _header(kit.header.header_raw, "header_raw")
    block_hash = compute_block_hash(header)
    node_keys = {bytes.fromhex(n.public_key) for n in kit.genesis.nodes}
    signature = _unhex(kit.header.proposer_signature, "proposer_signature")
    if header.chain_id != kit.chain_id:
        ok = False
    elif header.height == 0:
        ok = block_hash == genesis_hash
    else:
        ok = header.proposer in node_keys and get_scheme(ED25519).verify(
            header.proposer, header_sign_bytes(block_hash), signature
        )
    if not ok:
        raise HealthError(
            f"block {header.height} of the kit is not signed by a founding node",
            code="KIT_UNTRUSTED_HEADER",
        )
    return header


def _prove(header: BlockHeader, entry: BundleState, key: bytes | None = None) -> bytes | None:
    """The proven value of an entry (whose key must be ``key`` if given)."""
    entry_key = _unhex(entry.key, "a state key")
    if key is not None and entry_key != key:
        raise HealthError("a kit proof is for another key", code="KIT_BAD_PROOF")
    value = None if entry.value is None else _unhex(entry.value, "a state value")
    try:
        proof = smt.decode_state_proof(_unhex(entry.proof, "a state proof"))
        smt.verify_state_proof(header.state_root, entry_key, value, proof)
    except (GovchainError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise HealthError(f"a kit proof does not verify: {exc}", code="KIT_BAD_PROOF") from None
    return value


def _record(raw: bytes | None, type_: type[Any], what: str) -> Any:
    if raw is None:
        raise HealthError(f"the kit proves there is no {what}", code="KIT_BAD_PROOF")
    try:
        return decode(raw, type_)
    except (msgspec.DecodeError, msgspec.ValidationError, GovchainError):
        raise HealthError(f"the proven {what} does not decode", code="KIT_BAD_PROOF") from None


def _signing_keys(kit: VenueKit, header: BlockHeader) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for entry in kit.members:
        member: Identity = _record(_prove(header, entry), Identity, "member record")
        if _unhex(entry.key, "a state key") != identity_state_key(member.id):
            raise HealthError("a member proof is for another key", code="KIT_BAD_PROOF")
        if member.kind != "member" or member.org != kit.org or member.status != "active":
            continue
        if not set(member.roles) & set(AGGREGATE_ROLES):
            continue
        for n, k in enumerate(member.keys, start=1):
            if is_key_valid_at(member, k.public_key, header.height):
                keys[f"{did_of(kit.chain_id, member.id)}#key-{n}"] = k.public_key
    return keys


def _accredited(kit: VenueKit, header: BlockHeader) -> frozenset[str]:
    if len(kit.accreditations) != len(kit.credential_types):
        raise HealthError("one accreditation proof per pass type is needed", code="KIT_MALFORMED")
    out = set()
    for kind, entry in zip(kit.credential_types, kit.accreditations, strict=True):
        raw = _prove(header, entry, accreditation_state_key(kit.org, kind))
        if raw is not None and _record(raw, Accreditation, "accreditation").status == "active":
            out.add(kind)
    return frozenset(out)


def _flags(
    kit: VenueKit, header: BlockHeader, purpose: str, entries: list[BundleState]
) -> set[int]:
    indexes = set()
    prefix = f"{CERTS}/flag/{kit.org}/{purpose}/".encode()
    for entry in entries:
        key = _unhex(entry.key, "a state key")
        digits = key[len(prefix) :] if key.startswith(prefix) else b""
        expected = f"{CERTS}/{flag_key(kit.org, purpose, int(digits))}" if digits.isdigit() else ""
        if key != expected.encode():
            raise HealthError(f"a {purpose} proof is for another key", code="KIT_BAD_PROOF")
        if _prove(header, entry) is None:
            raise HealthError(f"a {purpose} flag is not set", code="KIT_BAD_PROOF")
        indexes.add(int(digits))
    return indexes


def _snapshot(kit: VenueKit, header: BlockHeader, purpose: str) -> frozenset[int]:
    proven = kit.revoked if purpose == "revocation" else kit.suspended
    if kit.compact is None:
        return frozenset(_flags(kit, header, purpose, proven))
    if kit.attestation is None or proven:
        raise HealthError(
            "a compact snapshot needs an attestation and no per-entry proofs", code="KIT_MALFORMED"
        )
    encoded = kit.compact.revocation if purpose == "revocation" else kit.compact.suspension
    try:
        bits = StatusList.decode(encoded).to_bytes()
    except GovchainError as exc:
        raise HealthError(f"the {purpose} list: {exc}", code="KIT_MALFORMED") from None
    return frozenset(
        position * 8 + bit
        for position, byte in enumerate(bits)
        if byte
        for bit in range(8)
        if byte & (0x80 >> bit)
    )


def load_kit(kit: VenueKit, *, genesis_hash: bytes | None = None) -> TrustedKit:
    """Check a kit once (see the module's docstring); ``genesis_hash`` pins the chain."""
    header = _check_header(kit, _check_anchor(kit, genesis_hash))
    org: Identity = _record(
        _prove(header, kit.org_record, identity_state_key(kit.org)), Identity, "organisation"
    )
    if org.kind != "org" or org.status != "active":
        raise HealthError(f"{kit.org} is not an active organisation", code="KIT_ORG_INACTIVE")
    count_key = f"{CERTS}/next_index/{kit.org}".encode()
    count_raw = _prove(header, kit.status_count, count_key)
    trusted = TrustedKit(
        chain_id=kit.chain_id,
        org=kit.org,
        height=header.height,
        time_ms=header.time_ms,
        keys=_signing_keys(kit, header),
        accredited=_accredited(kit, header),
        status_count=0 if count_raw is None else _record(count_raw, int, "status count"),
        revoked=_snapshot(kit, header, "revocation"),
        suspended=_snapshot(kit, header, "suspension"),
        block_hash=compute_block_hash(header),
    )
    return trusted if kit.attestation is None else _check_attestation(trusted, kit.attestation)


def compute_snapshot_digest(kit: TrustedKit) -> bytes:
    """What an attestation signs: the chain, organisation, header and the whole snapshot."""
    statement = [
        kit.chain_id,
        kit.org,
        kit.block_hash,
        kit.status_count,
        sorted(kit.revoked),
        sorted(kit.suspended),
    ]
    return tagged_hash(_SNAPSHOT_TAG, encode(statement))


def _check_attestation(kit: TrustedKit, attestation: KitAttestation) -> TrustedKit:
    public = kit.keys.get(attestation.signer)
    signature = _unhex(attestation.signature, "the attestation signature")
    if public is None or not get_scheme(ED25519).verify(
        public, compute_snapshot_digest(kit), signature
    ):
        raise HealthError(
            f"the snapshot's attestation by {attestation.signer[:100]!r} does not verify",
            code="KIT_BAD_ATTESTATION",
            hint="Download the kit again from the health commission.",
        )
    return dataclasses.replace(kit, attested_by=attestation.signer)


def attest_kit(kit: VenueKit, key: KeyPair, *, compact: bool = False) -> VenueKit:
    """The kit with its snapshot signed by ``key``, a pass-signing key of the commission in the
    kit (``KIT_BAD_ATTESTATION`` otherwise). Sign only a snapshot you know to be complete. With
    ``compact`` the per-entry proofs (checked here first) give way to the status bitstrings."""
    trusted = load_kit(msgspec.structs.replace(kit, attestation=None))
    signer = next((m for m, k in trusted.keys.items() if k == key.public_key), None)
    if signer is None:
        raise HealthError(
            f"the key is not a pass-signing key of {kit.org} in the kit",
            code="KIT_BAD_ATTESTATION",
            hint="Attest with the key of one of the commission's issuers or officers.",
        )
    attestation = KitAttestation(signer, key.sign(compute_snapshot_digest(trusted)).hex())
    if not compact:
        return msgspec.structs.replace(kit, attestation=attestation)
    lists = CompactSnapshot(
        _encode_indexes(trusted.revoked, trusted.status_count),
        _encode_indexes(trusted.suspended, trusted.status_count),
    )
    return msgspec.structs.replace(
        kit, attestation=attestation, compact=lists, revoked=[], suspended=[]
    )


def _encode_indexes(indexes: frozenset[int], count: int) -> str:
    bits = StatusList(max(MIN_LIST_BITS, -(-count // MIN_LIST_BITS) * MIN_LIST_BITS))
    for index in indexes:
        bits.set(index)
    return bits.encode()


# --- one pass --------------------------------------------------------------------------------


class _Fail(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass
class _Pass:
    kit: TrustedKit
    policy: VenuePolicy
    now_ms: int
    decoded: DecodedQr
    health_pass: HealthPass | None = None
    checks: list[VenueCheck] = field(default_factory=list)


def _qr_step(p: _Pass, step: QrStep) -> str:
    result = p.decoded.get_step(step)
    if result.status is StepStatus.FAILED:
        raise _Fail(result.reason or "QR_INVALID", result.message)
    return result.message


def _check_kit(p: _Pass) -> str:
    age_ms = p.now_ms - p.kit.time_ms
    hours = age_ms / 3_600_000
    if age_ms > p.policy.max_kit_age_hours * 3_600_000:
        raise _Fail(
            "KIT_STALE",
            f"the kit is {hours:.0f} h old (at most {p.policy.max_kit_age_hours} h): "
            "download a new one",
        )
    if p.policy.require_attested and p.kit.attested_by is None:
        raise _Fail("KIT_NOT_ATTESTED", "the commission did not attest the kit's snapshot")
    return f"{p.kit.org} at block {p.kit.height}, {hours:.1f} h old"


def _check_issuer(p: _Pass) -> str:
    kid = (p.decoded.kid or b"").decode("utf-8", "replace")
    if kid in p.kit.keys:
        return f"signed with {kid}"
    try:
        chain = parse_did(kid.partition("#")[0])[0]
    except GovchainError:
        chain = ""
    if chain and chain != p.kit.chain_id:
        raise _Fail("PASS_WRONG_CHAIN", f"the signing key is of chain {chain!r}")
    raise _Fail(
        "PASS_UNKNOWN_ISSUER",
        f"{kid[:100]!r} is not a pass-signing key of {p.kit.org} in the kit",
    )


def _check_signature(p: _Pass) -> str:
    step = p.decoded.get_step(QrStep.VERIFY)
    if step.status is StepStatus.FAILED:
        raise _Fail(step.reason or "QR_BAD_SIGNATURE", step.message)
    return "EdDSA signature verifies with the kit's key"


def _check_claims(p: _Pass) -> str:
    _qr_step(p, QrStep.CLAIMS)
    assert p.decoded.claims is not None
    try:
        health_pass = parse_pass_claims(p.decoded.claims)
    except HealthError as exc:
        raise _Fail(exc.code, exc.message) from None
    if health_pass.issuer != p.kit.org_did:
        raise _Fail("PASS_WRONG_ISSUER", f"issued by {health_pass.issuer[:100]!r}")
    p.health_pass = health_pass
    return f"{health_pass.credential_type} of holder ref {health_pass.holder_ref}"


def _check_accreditation(p: _Pass) -> str:
    assert p.health_pass is not None
    kind = p.health_pass.credential_type
    if kind not in p.kit.accredited:
        raise _Fail("PASS_NOT_ACCREDITED", f"{p.kit.org} is not accredited for {kind}")
    return f"{p.kit.org} accredited for {kind} at block {p.kit.height}"


def _check_validity(p: _Pass) -> str:
    _qr_step(p, QrStep.EXPIRY)
    assert p.health_pass is not None
    return f"valid until {p.health_pass.expires or 'no expiry'}"


def _check_policy(p: _Pass) -> str:
    hp, now = p.health_pass, p.now_ms // 1000
    assert hp is not None
    if hp.credential_type == TEST_RESULT:
        assert hp.sample_time is not None
        if hp.result != "negative":
            raise _Fail("PASS_POSITIVE", "the test result is positive")
        if hp.sample_time > now + p.policy.leeway_seconds:
            raise _Fail("PASS_NOT_YET_VALID", "the sample time is in the future")
        age_h = (now - hp.sample_time) / 3600
        if age_h > p.policy.test_validity_hours:
            raise _Fail(
                "PASS_TEST_TOO_OLD",
                f"sampled {age_h:.0f} h ago; this venue admits tests up to "
                f"{p.policy.test_validity_hours} h old",
            )
        return f"negative {hp.test_type} sampled {age_h:.1f} h ago"
    if hp.credential_type == VACCINATION:
        assert hp.dose_number is not None and hp.total_doses is not None
        if p.policy.require_full_vaccination and hp.dose_number < hp.total_doses:
            raise _Fail("PASS_INCOMPLETE_VACCINATION", f"dose {hp.dose_number} of {hp.total_doses}")
        return f"dose {hp.dose_number} of {hp.total_doses} on {hp.vaccination_date}"
    raise _Fail("PASS_BAD_CLAIMS", f"no venue rule for {hp.credential_type}")


def _check_revocation(p: _Pass) -> str:
    assert p.health_pass is not None
    index, kit = p.health_pass.status_index, p.kit
    if index in kit.revoked:
        raise _Fail("PASS_REVOKED", f"revoked (status index {index}) as of block {kit.height}")
    if index in kit.suspended:
        raise _Fail("PASS_SUSPENDED", f"suspended (status index {index}) as of block {kit.height}")
    vouched = "" if kit.attested_by is None else f" (snapshot attested by {kit.attested_by})"
    if index >= kit.status_count:
        return f"issued after the kit's snapshot at block {kit.height}; not revoked then{vouched}"
    return f"not revoked as of block {kit.height}{vouched}"


_CHECKS: tuple[tuple[str, Callable[[_Pass], str]], ...] = (
    ("kit", _check_kit),
    *((name, lambda p, s=step: _qr_step(p, s)) for step, name in _QR_STEPS.items()),
    ("issuer", _check_issuer),
    ("signature", _check_signature),
    ("claims", _check_claims),
    ("accreditation", _check_accreditation),
    ("validity", _check_validity),
    ("policy", _check_policy),
    ("revocation", _check_revocation),
)


def check_pass(
    text: str, kit: TrustedKit, now_ms: int, policy: VenuePolicy | None = None
) -> VenueDecision:
    """ADMIT or REFUSE a pass's QR text with every check named; never raises on bad input."""
    policy = policy or VenuePolicy()
    decoded = decode_qr_payload(
        text,
        key_or_cert_resolver=lambda kid: kit.keys.get(kid.decode("utf-8", "replace")),
        now=now_ms // 1000,
        leeway=policy.leeway_seconds,
    )
    p = _Pass(kit, policy, now_ms, decoded)
    failed = False
    for name, run in _CHECKS:
        if failed:
            p.checks.append(VenueCheck(name, None, "", "not checked: an earlier check failed"))
            continue
        try:
            p.checks.append(VenueCheck(name, True, "", run(p)))
        except _Fail as fail:
            p.checks.append(VenueCheck(name, False, fail.code, fail.reason))
            failed = True
    return VenueDecision(p.checks, p.health_pass)

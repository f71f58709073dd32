"""Resolving an issuer's key (``<member DID>#key-N``) to check a QR pass or a presentation, with
no key given by hand:

* **offline, from a verification bundle** (:func:`get_bundle_keys`): the bundle is verified with
  the genesis; its identity record, proven as it stood at the anchoring height, gives the key
  that was valid when the credential was issued;
* **offline, from a trust file** exported from the chain (:func:`get_trust_file_keys`,
  ``govchain-issuer-trust-v1``): identity records of issuing organisations and members proven
  against one signed header; the keys open at that height are trusted;
* **online, from the chain** (:func:`resolve_key_online`): the node's bundle of the credential
  gives the signing member's identity record proven at the anchoring height; the shared checker
  judges the key there.

Each answer is a :class:`ResolvedKey` saying where the key came from; a key that cannot be
trusted raises :class:`IssuerKeyUntrusted` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from govchain.client.offline import (
    UntrustedHeader,
    prove_bundle_state,
    verify_bundle,
    verify_bundle_header,
    verify_issuance_header,
)
from govchain.client.sdk import Client
from govchain.client.verify import TrustAnchor
from govchain.contracts.certs_checks import RecordProblem, check_issuing_key
from govchain.contracts.certs_records import ANCHOR_ROLES, CertAnchor
from govchain.contracts.did import did_of, parse_did
from govchain.contracts.identity import Identity, identity_state_key
from govchain.credentials.bundle import (
    ISSUER_TRUST_FORMAT,
    BundleState,
    IssuerTrust,
    VerificationBundle,
)
from govchain.encoding import decode
from govchain.errors import GovchainError
from govchain.types import BlockHeader

__all__ = [
    "IssuerKeyUntrusted",
    "fetch_issuer_trust",
    "ResolvedKey",
    "get_bundle_keys",
    "get_trust_file_keys",
    "resolve_key_online",
]

_BUNDLE_CHECKS_FOR_KEYS = ("format", "chain", "header", "proofs", "signature", "key")


class IssuerKeyUntrusted(GovchainError):
    code = "ISSUER_KEY_UNTRUSTED"
    status = 422
    title = "Issuer key not trusted"
    default_hint = (
        "Give a verification bundle or a trust file of the issuer (`govchain cert trust-export`) "
        "and the network's genesis, or verify online with --node."
    )


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    kid: str  # the verification method, <member DID>#key-N
    public_key: bytes
    source: str  # "bundle" | "trust file" | "chain"
    detail: str
    org: str = ""  # the issuing organisation the key's holder belongs to


def get_bundle_keys(
    bundle: VerificationBundle,
    trust: TrustAnchor,
    now_ms: int,
    *,
    peers: Mapping[str, bytes] | None = None,
) -> dict[str, ResolvedKey]:
    """The signing key of the bundle's credential, once the bundle's header, proofs, signature
    and key checks hold (revocation and expiry are the pass's own checks)."""
    result = verify_bundle(bundle, trust, now_ms, peers=peers)
    by_name = {c.check: c for c in result.checks}
    bad = [by_name[n] for n in _BUNDLE_CHECKS_FOR_KEYS if by_name[n].ok is not True]
    if bad:
        first = bad[0]
        raise IssuerKeyUntrusted(
            f"the bundle does not establish the issuer key: {first.check}: {first.code} "
            f"{first.reason}"
        )
    assert bundle.credential is not None  # the format check passed
    method = str(bundle.credential["proof"]["verificationMethod"])
    identity = decode(bytes.fromhex(bundle.issuance.identity.value or ""), Identity)
    position = int(method.rpartition("#key-")[2])
    key = identity.keys[position - 1].public_key
    detail = f"valid at the anchoring height (bundle of {bundle.credential_hash[:16]}…)"
    return {method: ResolvedKey(method, key, "bundle", detail, identity.org)}


def _issuing_keys(
    chain_id: str, member: Identity, height: int, source: str
) -> dict[str, ResolvedKey]:
    if member.kind != "member" or member.status != "active":
        return {}
    if not set(member.roles) & set(ANCHOR_ROLES):
        return {}
    did = did_of(chain_id, member.id)
    keys = {}
    for n, k in enumerate(member.keys, start=1):
        if k.added_height <= height and k.until_height is None:
            detail = f"open at height {height} ({source})"
            keys[f"{did}#key-{n}"] = ResolvedKey(
                f"{did}#key-{n}", k.public_key, source, detail, member.org
            )
    return keys


def get_trust_file_keys(
    trust_file: IssuerTrust,
    trust: TrustAnchor | None,
    *,
    peers: Mapping[str, bytes] | None = None,
) -> dict[str, ResolvedKey]:
    """The issuing members' keys open at the trust file's height, once its header is trusted
    and every identity record is proven against it. With no ``trust`` (a trust file just
    fetched from a node the caller trusts) the records are still proven against the header's
    state root, but the header is the node's word."""
    if trust_file.format != ISSUER_TRUST_FORMAT:
        raise IssuerKeyUntrusted(f"not a {ISSUER_TRUST_FORMAT} trust file")
    if trust is not None and (
        trust_file.chain_id != trust.chain_id or trust_file.genesis_hash != trust.genesis_hash.hex()
    ):
        raise IssuerKeyUntrusted("the trust file is of another chain than the genesis")
    try:
        if trust is None:
            header = decode(bytes.fromhex(trust_file.header.header_raw), BlockHeader)
        else:
            header = verify_bundle_header(trust_file.header, trust, peers=peers)
        records = [_proven_identity(entry, header) for entry in trust_file.identities]
    except (UntrustedHeader, ValueError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise IssuerKeyUntrusted(f"the trust file does not verify: {exc}") from None
    orgs = {r.id: r for r in records if r.kind == "org" and r.status == "active"}
    source = "trust file" if trust is not None else "chain"
    keys: dict[str, ResolvedKey] = {}
    for record in records:
        if record.kind == "member" and record.org in orgs:
            keys.update(_issuing_keys(trust_file.chain_id, record, header.height, source))
    return keys


def _proven_identity(entry: BundleState, header: BlockHeader) -> Identity:
    if entry.value is None:
        raise UntrustedHeader("the trust file proves an identity's absence")
    identity = decode(bytes.fromhex(entry.value), Identity)
    prove_bundle_state(header, entry, identity_state_key(identity.id))
    return identity


def resolve_key_online(client: Client, kid: str, credential_hash: bytes) -> ResolvedKey:
    """The key ``kid`` names as it stood when the credential was anchored, from the chain: the
    node's bundle of the credential carries the signing member's identity record proven at the
    anchoring height (checked here; the header too when the client holds a trust anchor), and
    the shared checker judges the key and the member's issuing role there."""
    did, _, fragment = kid.partition("#")
    _, member_id = parse_did(did)
    path = f"/v1/credentials/{credential_hash.hex()}/bundle"
    bundle = msgspec.convert(client.get(path, params={"member": member_id}), VerificationBundle)
    anchor = decode(bytes.fromhex(bundle.anchor.value or ""), CertAnchor)
    entry = bundle.issuance
    try:
        if client.trust is not None:
            header = verify_issuance_header(bundle, client.trust)
        else:
            header = decode(bytes.fromhex(entry.header.header_raw), BlockHeader)
        raw = prove_bundle_state(header, entry.identity, identity_state_key(member_id))
    except UntrustedHeader as exc:
        raise IssuerKeyUntrusted(f"the node's answer does not verify: {exc.message}") from None
    if header.height != anchor.height or raw is None or not fragment.startswith("key-"):
        raise IssuerKeyUntrusted(f"{kid} names no key of an issuer of this credential")
    member = decode(raw, Identity)
    position = int(fragment[4:]) if fragment[4:].isdigit() else 0
    if not 1 <= position <= len(member.keys):
        raise IssuerKeyUntrusted(f"{member_id} has no key-{position}")
    key = member.keys[position - 1].public_key
    where = f"at the anchoring height {anchor.height}"
    try:
        detail = check_issuing_key(member, member_id, anchor.issuer_org, key, anchor.height, where)
    except RecordProblem as problem:
        raise IssuerKeyUntrusted(problem.reason) from None
    return ResolvedKey(kid, key, "chain", detail, anchor.issuer_org)


def fetch_issuer_trust(client: Client, orgs: list[str]) -> IssuerTrust:
    """A trust file of ``orgs`` from the node (public); check it offline with
    :func:`get_trust_file_keys` — nothing in it needs trusting the node."""
    answer = client.get("/v1/credentials/issuers/trust", params={"org": orgs})
    return msgspec.convert(answer, IssuerTrust)

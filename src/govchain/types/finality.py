"""Attestations and finality certificates (multi-node).

After executing block ``h`` every peer signs an :class:`Attestation` of what it computed (chain
id, height, block hash, state root). Attestations from a quorum of the founding organisations'
peers — more than two thirds of them — form the block's :class:`FinalityCertificate`, which a
light client, an offline verifier or another region's chain checks with nothing but the genesis
(the trust anchor): no single node has to be trusted.

Everything here is pure: encoding, the bytes that are signed, the quorum size and the checks.
A certificate is canonical: one signature per peer, sorted by node id, every signer a founding
peer with the key the genesis gives it. :func:`verify_certificate` raises a
:class:`FinalityError` subclass whose ``code`` names the fault; :func:`get_certificate_problem`
gives the same verdict as a sentence (``None`` when the certificate holds).

An offline verifier (a credential bundle, another region's chain) checks a header ``h`` it holds
against a certificate with::

    get_certificate_problem(
        cert, genesis.chain_id, founding_peer_keys(genesis),
        height=h.height, block_hash=compute_block_hash(h), state_root=h.state_root,
    )
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from govchain.crypto.hashing import tagged_hash
from govchain.crypto.signing import ED25519, get_scheme
from govchain.errors import MalformedTransaction, NotFound, ProofError
from govchain.types.genesis import Genesis

__all__ = [
    "ATTESTATION_DOMAIN",
    "Attestation",
    "CertificateNotFound",
    "FinalityBadSignature",
    "FinalityCertificate",
    "FinalityDuplicateSigner",
    "FinalityError",
    "FinalityMalformed",
    "FinalityMismatch",
    "FinalityNoQuorum",
    "FinalityUnknownSigner",
    "FinalityWrongChain",
    "attestation_sign_bytes",
    "compute_certificate",
    "compute_quorum",
    "decode_attestation",
    "decode_certificate",
    "founding_peer_keys",
    "get_certificate_problem",
    "is_attestation_signed",
    "verify_attestation",
    "verify_certificate",
]

ATTESTATION_DOMAIN = b"govchain/attestation/v1"
HASH_SIZE = 32


class Attestation(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    chain_id: str
    height: int
    block_hash: bytes
    state_root: bytes
    node_id: str
    public_key: bytes  # the peer's node key (as in the genesis)
    signature: bytes  # over attestation_sign_bytes(...)


class FinalityCertificate(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    chain_id: str
    height: int
    block_hash: bytes
    state_root: bytes
    # (node_id, public_key, signature), sorted by node id; one per peer
    signatures: list[tuple[str, bytes, bytes]]

    @property
    def signers(self) -> list[str]:
        return [node_id for node_id, _, _ in self.signatures]


# --- errors ---------------------------------------------------------------------------------------


class FinalityError(ProofError):
    """An attestation or a finality certificate does not hold."""

    code = "FINALITY_INVALID"
    title = "Invalid finality proof"
    default_hint = (
        "Do not trust the block this certificate or attestation vouches for; "
        "ask another peer, and check the genesis you verify against."
    )


class FinalityMalformed(FinalityError):
    code = "FINALITY_MALFORMED"
    title = "Malformed attestation or certificate"


class FinalityWrongChain(FinalityError):
    code = "FINALITY_WRONG_CHAIN"
    title = "Attestation or certificate of another chain"


class FinalityMismatch(FinalityError):
    code = "FINALITY_MISMATCH"
    title = "Certificate of another block or state"


class FinalityNoQuorum(FinalityError):
    code = "FINALITY_NO_QUORUM"
    title = "Too few founding peers signed"


class FinalityUnknownSigner(FinalityError):
    code = "FINALITY_UNKNOWN_SIGNER"
    title = "Signer is not a founding peer"


class FinalityDuplicateSigner(FinalityError):
    code = "FINALITY_DUPLICATE_SIGNER"
    title = "A peer signed twice"


class FinalityBadSignature(FinalityError):
    code = "FINALITY_BAD_SIGNATURE"
    title = "Signature does not verify"


class CertificateNotFound(NotFound):
    code = "FINALITY_NOT_FOUND"
    title = "No finality certificate"
    default_hint = (
        "The block is not finalized yet (or does not exist); retry shortly, "
        "GET /v1/finality shows the finalized height."
    )


# --- signing and checking -------------------------------------------------------------------------


def attestation_sign_bytes(
    chain_id: str, height: int, block_hash: bytes, state_root: bytes
) -> bytes:
    """What a peer signs: the tagged SHA-256 of the canonical encoding of the four fields."""
    from govchain.encoding import encode

    return tagged_hash(ATTESTATION_DOMAIN, encode([chain_id, height, block_hash, state_root]))


def is_attestation_signed(att: Attestation) -> bool:
    message = attestation_sign_bytes(att.chain_id, att.height, att.block_hash, att.state_root)
    return get_scheme(ED25519).verify(att.public_key, message, att.signature)


def founding_peer_keys(genesis: Genesis) -> dict[str, bytes]:
    """node id -> public key of the founding organisations' peers (the genesis nodes).

    Raises :class:`FinalityMalformed` when a node id or a key appears twice or a key is not hex:
    one operator must never hold two votes of the quorum."""
    peers: dict[str, bytes] = {}
    for node in genesis.nodes:
        try:
            key = bytes.fromhex(node.public_key)
        except ValueError:
            raise FinalityMalformed(f"the genesis key of node {node.id!r} is not hex") from None
        if node.id in peers or key in peers.values():
            raise FinalityMalformed(f"the genesis lists node {node.id!r} or its key twice")
        peers[node.id] = key
    return peers


def compute_quorum(peer_count: int) -> int:
    """The smallest number of peers that is more than two thirds of ``peer_count``."""
    if peer_count <= 0:
        raise FinalityNoQuorum("no peers to form a quorum")
    return (2 * peer_count) // 3 + 1


def _check_fields(chain_id: str, height: int, block_hash: bytes, state_root: bytes) -> None:
    if height < 0 or len(block_hash) != HASH_SIZE or len(state_root) != HASH_SIZE:
        raise FinalityMalformed(
            f"height must be >= 0 and hashes {HASH_SIZE} bytes (height {height})", height=height
        )
    if not chain_id:
        raise FinalityMalformed("the chain id is empty")


def verify_attestation(att: Attestation, chain_id: str, peers: Mapping[str, bytes]) -> None:
    """Check one attestation: well formed, of ``chain_id``, by a founding peer with its genesis
    key, correctly signed. Raises a :class:`FinalityError` subclass naming the fault."""
    _check_fields(att.chain_id, att.height, att.block_hash, att.state_root)
    if att.chain_id != chain_id:
        raise FinalityWrongChain(
            f"attestation is for chain {att.chain_id!r}, not {chain_id!r}", height=att.height
        )
    if peers.get(att.node_id) != att.public_key:
        raise FinalityUnknownSigner(
            f"{att.node_id!r} is not a founding peer with that key", node_id=att.node_id
        )
    if not is_attestation_signed(att):
        raise FinalityBadSignature(
            f"the attestation of {att.node_id!r} at height {att.height} does not verify",
            node_id=att.node_id,
            height=att.height,
        )


def verify_certificate(
    cert: FinalityCertificate,
    chain_id: str,
    peers: Mapping[str, bytes],
    *,
    height: int | None = None,
    block_hash: bytes | None = None,
    state_root: bytes | None = None,
) -> None:
    """Check that ``cert`` carries valid signatures of a quorum of ``peers`` (node id -> key)
    over its (chain id, height, block hash, state root), in canonical form, and matches the
    expected height, block hash and state root when given. Raises a :class:`FinalityError`
    subclass naming the first fault (checked in this order: form, chain, expected values,
    signers, signatures, quorum)."""
    _check_fields(cert.chain_id, cert.height, cert.block_hash, cert.state_root)
    if cert.chain_id != chain_id:
        raise FinalityWrongChain(
            f"certificate is for chain {cert.chain_id!r}, not {chain_id!r}", height=cert.height
        )
    _check_expected(cert, height, block_hash, state_root)
    _check_signers(cert, peers)
    message = attestation_sign_bytes(cert.chain_id, cert.height, cert.block_hash, cert.state_root)
    scheme = get_scheme(ED25519)
    for node_id, key, signature in cert.signatures:
        if not scheme.verify(key, message, signature):
            raise FinalityBadSignature(
                f"the signature of {node_id!r} does not verify", node_id=node_id, height=cert.height
            )
    need = compute_quorum(len(peers))
    if len(cert.signatures) < need:
        raise FinalityNoQuorum(
            f"{len(cert.signatures)} of {len(peers)} founding peers signed block {cert.height}; "
            f"a quorum is {need}",
            height=cert.height,
            signed=len(cert.signatures),
            quorum=need,
        )


def _check_expected(
    cert: FinalityCertificate,
    height: int | None,
    block_hash: bytes | None,
    state_root: bytes | None,
) -> None:
    if height is not None and cert.height != height:
        raise FinalityMismatch(
            f"certificate is for height {cert.height}, not {height}", height=cert.height
        )
    if block_hash is not None and cert.block_hash != block_hash:
        raise FinalityMismatch(
            f"certificate is for another block at height {cert.height}", height=cert.height
        )
    if state_root is not None and cert.state_root != state_root:
        raise FinalityMismatch(
            f"certificate attests another state root at height {cert.height}", height=cert.height
        )


def _check_signers(cert: FinalityCertificate, peers: Mapping[str, bytes]) -> None:
    seen: set[str] = set()
    for node_id, key, _ in cert.signatures:
        if node_id in seen:
            raise FinalityDuplicateSigner(f"peer {node_id!r} signed twice", node_id=node_id)
        if peers.get(node_id) != key:
            raise FinalityUnknownSigner(
                f"{node_id!r} is not a founding peer with that key", node_id=node_id
            )
        seen.add(node_id)
    if cert.signers != sorted(cert.signers):
        raise FinalityMalformed("the signatures are not sorted by node id")


def get_certificate_problem(
    cert: FinalityCertificate,
    chain_id: str,
    peers: Mapping[str, bytes],
    *,
    height: int | None = None,
    block_hash: bytes | None = None,
    state_root: bytes | None = None,
) -> str | None:
    """``None`` when ``cert`` holds (see :func:`verify_certificate`); otherwise the reason it
    does not."""
    try:
        verify_certificate(
            cert, chain_id, peers, height=height, block_hash=block_hash, state_root=state_root
        )
    except FinalityError as exc:
        return exc.message
    return None


def decode_certificate(raw: bytes) -> FinalityCertificate:
    """A certificate from its canonical bytes; raises :class:`FinalityMalformed`."""
    from govchain.encoding import decode

    try:
        return decode(raw, FinalityCertificate)
    except MalformedTransaction as exc:
        raise FinalityMalformed(f"cannot decode the finality certificate: {exc.message}") from exc


def decode_attestation(raw: bytes) -> Attestation:
    """An attestation from its canonical bytes; raises :class:`FinalityMalformed`."""
    from govchain.encoding import decode

    try:
        return decode(raw, Attestation)
    except MalformedTransaction as exc:
        raise FinalityMalformed(f"cannot decode the attestation: {exc.message}") from exc


def compute_certificate(
    attestations: Iterable[Attestation], peers: Mapping[str, bytes], chain_id: str | None = None
) -> FinalityCertificate | None:
    """The certificate formed by ``attestations`` (all for one height), or ``None`` while no
    (block hash, state root) pair has valid signatures from a quorum of ``peers``. Attestations
    that do not verify (or are of another chain than ``chain_id``, when given) do not count."""
    groups: dict[tuple[str, int, bytes, bytes], dict[str, Attestation]] = {}
    for att in attestations:
        try:
            verify_attestation(att, chain_id or att.chain_id, peers)
        except FinalityError:
            continue
        key = (att.chain_id, att.height, att.block_hash, att.state_root)
        groups.setdefault(key, {})[att.node_id] = att
    need = compute_quorum(len(peers))
    for (chain, height, block_hash, state_root), by_node in groups.items():
        if len(by_node) >= need:
            sigs = [(n, a.public_key, a.signature) for n, a in sorted(by_node.items())]
            return FinalityCertificate(chain, height, block_hash, state_root, sigs)
    return None

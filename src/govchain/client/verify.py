"""Client-side verification: a client re-derives every hash from raw bytes and checks every
proof itself, so it never has to trust the node it talks to.

The trust anchor comes from the genesis alone (:meth:`TrustAnchor.from_genesis`): the chain id,
the genesis block's hash, the node keys, and the founding peers whose quorum signs finality
certificates. A header is trusted on its finality certificate (multi-node) or on a trusted
node's signature; with ``require_finality`` only a certificate will do. Transaction and state
answers carry the certificate of their header's block in ``finality`` when the node has one
(a multi-node peer stores the blocks other peers proposed without a signature: there the
certificate is the header's only authority).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from govchain.contracts import ContractRegistry, default_registry
from govchain.crypto.signing import ED25519, get_scheme
from govchain.encoding import decode
from govchain.errors import ProofError, RootMismatch
from govchain.execution import build_genesis
from govchain.merkle import rfc6962, smt
from govchain.types import (
    BlockHeader,
    Genesis,
    Receipt,
    SignedTx,
    compute_block_hash,
    compute_tx_id,
    header_sign_bytes,
)
from govchain.types.finality import (
    FinalityCertificate,
    FinalityError,
    FinalityMalformed,
    FinalityNoQuorum,
    decode_certificate,
    founding_peer_keys,
    verify_certificate,
)

__all__ = [
    "FinalityMissing",
    "TrustAnchor",
    "get_answer_certificate",
    "get_answer_finality",
    "verify_finality_certificate",
    "verify_header",
    "verify_state_answer",
    "verify_tx_answer",
]


class FinalityMissing(FinalityError):
    """A header must be trusted on a finality certificate and the answer carries none: the
    trust anchor requires finality, or the header is unsigned (a peer that did not propose the
    block stores it so)."""

    code = "FINALITY_MISSING"
    title = "No finality certificate with the answer"
    default_hint = (
        "The block is not final yet, or this node has no certificate for it: retry when it is "
        "final (GET /v1/finality shows the finalized height), or read state at the latest "
        "finalized height with `?final=true` (Client.state(..., final=True))."
    )


class TrustAnchor:
    """What a client trusts: the chain id, its genesis hash, the keys that may sign blocks, and
    the founding peers (node id -> key) whose quorum signs finality certificates. With
    ``require_finality`` a header is trusted only on a finality certificate."""

    def __init__(
        self,
        chain_id: str,
        genesis_hash: bytes,
        node_keys: Collection[bytes],
        *,
        peers: Mapping[str, bytes] | None = None,
        require_finality: bool = False,
    ) -> None:
        self.chain_id = chain_id
        self.genesis_hash = genesis_hash
        self.node_keys = frozenset(node_keys)
        self.peers = dict(peers) if peers is not None else {}
        self.require_finality = require_finality

    @classmethod
    def from_genesis(
        cls,
        genesis: Genesis,
        *,
        registry: ContractRegistry | None = None,
        require_finality: bool = False,
    ) -> TrustAnchor:
        """The trust anchor of a genesis document alone: the genesis block's hash is computed by
        building block 0 as a node does (with ``registry``, by default the standard contracts),
        the node keys and founding peers are the genesis nodes."""
        block, _, _ = build_genesis(genesis, registry or default_registry(), smt.MemoryNodeStore())
        peers = founding_peer_keys(genesis)
        return cls(
            genesis.chain_id,
            compute_block_hash(block.header),
            peers.values(),
            peers=peers,
            require_finality=require_finality,
        )


def verify_finality_certificate(
    cert: FinalityCertificate | bytes | Mapping[str, Any],
    trust: TrustAnchor,
    *,
    header: BlockHeader | None = None,
) -> FinalityCertificate:
    """Check a finality certificate against the trust anchor's founding peers (and, given
    ``header``, that it certifies exactly that header: height, hash and state root); return
    it decoded. ``cert`` may be the certificate, its canonical bytes, or the API's answer (then
    its ``raw`` bytes are what counts, and the readable fields must agree with them). Raises a
    :class:`~govchain.types.finality.FinalityError` subclass naming the fault."""
    if isinstance(cert, Mapping):
        cert = get_answer_certificate(cert)
    elif isinstance(cert, bytes):
        cert = decode_certificate(cert)
    if not trust.peers:
        raise FinalityNoQuorum(
            "the trust anchor names no founding peers",
            hint="Build it with TrustAnchor.from_genesis(genesis).",
        )
    verify_certificate(
        cert,
        trust.chain_id,
        trust.peers,
        height=header.height if header is not None else None,
        block_hash=compute_block_hash(header) if header is not None else None,
        state_root=header.state_root if header is not None else None,
    )
    return cert


def get_answer_certificate(answer: Mapping[str, Any]) -> FinalityCertificate:
    """The certificate of an API answer (``GET /v1/blocks/{height}/finality``), decoded from its
    ``raw`` bytes; raises :class:`FinalityMalformed` when the readable fields disagree with
    them. Decoding is not verifying: see :func:`verify_finality_certificate`."""
    try:
        cert = decode_certificate(bytes.fromhex(answer["raw"]))
        shown = (answer["height"], answer["block_hash"], answer["state_root"])
    except (KeyError, TypeError, ValueError) as exc:
        raise FinalityMalformed(
            f"the finality answer lacks a readable certificate: {exc}"
        ) from None
    if shown != (cert.height, cert.block_hash.hex(), cert.state_root.hex()):
        raise FinalityMalformed("the certificate shown differs from its raw bytes")
    return cert


def verify_header(
    header_view: dict[str, Any],
    trust: TrustAnchor | None,
    certificate: FinalityCertificate | bytes | Mapping[str, Any] | None = None,
) -> BlockHeader:
    """Decode a header from its raw bytes and check its hash; with a trust anchor, check that
    it is trusted — by ``certificate`` (a finality certificate of exactly this header, signed
    by a quorum of the founding peers) when given, else by its proposer's signature (a trusted
    node key); return the decoded header. Raises :class:`FinalityMissing` when no certificate
    is given and one is needed: the trust anchor requires finality, or the header is unsigned."""
    header = decode(bytes.fromhex(header_view["header_raw"]), BlockHeader)
    block_hash = compute_block_hash(header)
    if block_hash.hex() != header_view["hash"]:
        raise RootMismatch("the block hash does not match the header's bytes")
    if trust is None:
        return header
    if header.chain_id != trust.chain_id:
        raise ProofError(f"header is for chain {header.chain_id!r}, not {trust.chain_id!r}")
    if header.height == 0:
        if block_hash != trust.genesis_hash:
            raise RootMismatch("the genesis block differs from the trusted genesis hash")
    elif certificate is not None:
        verify_finality_certificate(certificate, trust, header=header)
    elif trust.require_finality:
        raise FinalityMissing(
            f"block {header.height} comes without a finality certificate", height=header.height
        )
    else:
        signature = bytes.fromhex(header_view["proposer_signature"])
        if not signature:
            raise FinalityMissing(
                f"block {header.height} is unsigned (this node did not propose it) and comes "
                "without a finality certificate",
                height=header.height,
            )
        ok = header.proposer in trust.node_keys and get_scheme(ED25519).verify(
            header.proposer, header_sign_bytes(block_hash), signature
        )
        if not ok:
            raise ProofError(f"block {header.height} is not signed by a trusted node")
    return header


def get_answer_finality(
    answer: Mapping[str, Any], trust: TrustAnchor | None
) -> FinalityCertificate | None:
    """The finality certificate a transaction or state answer carries (``finality``: hex of
    its canonical encoding), decoded, when ``trust`` can check it — it names the founding peers
    or requires finality; ``None`` otherwise (the header is then trusted on its signature)."""
    raw = answer.get("finality")
    if raw is None or trust is None or not (trust.peers or trust.require_finality):
        return None
    try:
        data = bytes.fromhex(raw)
    except (TypeError, ValueError):
        raise FinalityMalformed("the answer's finality certificate is not hex") from None
    return decode_certificate(data)


def verify_tx_answer(answer: dict[str, Any], trust: TrustAnchor | None = None) -> BlockHeader:
    """Check a committed transaction's inclusion and receipt proofs against its block header
    (trusted on the answer's finality certificate, when it carries one, or its signature)."""
    header = verify_header(answer["header"], trust, get_answer_finality(answer, trust))
    tx_raw = bytes.fromhex(answer["tx_raw"])
    receipt_raw = bytes.fromhex(answer["receipt_raw"])
    if compute_tx_id(decode(tx_raw, SignedTx).body).hex() != answer["tx_id"]:
        raise RootMismatch("the transaction bytes do not match its id")
    receipt = decode(receipt_raw, Receipt)
    if receipt.tx_hash.hex() != answer["tx_id"]:
        raise RootMismatch("the receipt is another transaction's")
    view = answer.get("receipt")
    if view is not None and (view["ok"], view["code"], view["message"]) != (
        receipt.ok,
        receipt.code,
        receipt.message,
    ):
        raise RootMismatch("the receipt shown differs from the proven receipt")
    for raw, proof, root in (
        (tx_raw, answer["tx_proof"], header.tx_root),
        (receipt_raw, answer["receipt_proof"], header.receipts_root),
    ):
        rfc6962.verify_inclusion(
            raw,
            rfc6962.InclusionProof(
                proof["index"], proof["size"], [bytes.fromhex(p) for p in proof["path"]]
            ),
            root,
        )
    return header


def verify_state_answer(answer: dict[str, Any], trust: TrustAnchor | None = None) -> BlockHeader:
    """Check a state value's membership (or the key's absence) against the header's root
    (trusted on the answer's finality certificate, when it carries one, or its signature)."""
    header = verify_header(answer["header"], trust, get_answer_finality(answer, trust))
    proof = smt.decode_state_proof(bytes.fromhex(answer["proof"]))
    value = bytes.fromhex(answer["value"]) if answer["value"] is not None else None
    smt.verify_state_proof(header.state_root, bytes.fromhex(answer["key"]), value, proof)
    return header

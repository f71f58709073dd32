"""The finality tracker: a peer's own attestations, those it receives, and the certificates they
form.

:class:`FinalityTracker` is plain logic over injected inputs — no clock, no I/O, no network —
so a test drives it deterministically. The runtime calls :meth:`FinalityTracker.attest` after
committing a block (and sends the attestation to the other peers), :meth:`FinalityTracker.add`
for each attestation it receives, and saves what :meth:`FinalityTracker.pop_certificates`
returns with ``LedgerStore.save_finality_certificate``.

Received attestations are verified (chain, founding peer with its genesis key, signature); one
that does not hold is **rejected with a typed error** (a :class:`FinalityError` subclass) and
counted in :attr:`FinalityTracker.rejected` by code, so the caller logs it and may stop
listening to its sender. Harmless repeats are ignored without an error and counted too:
``duplicate`` (the same attestation again), ``stale`` (a height already pruned) and ``ahead``
(a height more than the horizon beyond both this peer's last commit and the finalized height:
this bounds the memory a peer can make us hold; a peer that lags further catches up with
:func:`govchain.node.sync.catch_up`, which fetches the certificates).

A certificate forms only for a (block hash, state root) pair that a quorum — more than two
thirds of the founding peers — signed, so a faulty peer (or a minority of them) can never make
one form for its root. When a certificate disagrees with what this peer committed at that
height, :attr:`FinalityTracker.divergence` records it: the runtime then halts API writes and
reports it.
"""

from __future__ import annotations

import threading
from collections import Counter

import msgspec

from govchain.crypto.signing import KeyPair
from govchain.types.finality import (
    Attestation,
    FinalityCertificate,
    FinalityError,
    attestation_sign_bytes,
    compute_quorum,
    founding_peer_keys,
    verify_attestation,
)
from govchain.types.genesis import Genesis

__all__ = ["DEFAULT_HORIZON", "Divergence", "Equivocation", "FinalityTracker"]

DEFAULT_HORIZON = 1024  # heights kept pending, and accepted ahead of the highest known height


class Equivocation(FinalityError):
    code = "FINALITY_EQUIVOCATION"
    title = "A peer attested two different blocks at one height"
    default_hint = (
        "The peer is faulty or malicious: report it to its organisation; its attestations "
        "after the first at this height are ignored."
    )


class Divergence(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """This peer committed something else than the quorum certified at ``height``."""

    height: int
    local_block_hash: bytes
    local_state_root: bytes
    quorum_block_hash: bytes
    quorum_state_root: bytes
    signers: list[str]  # the founding peers that signed the quorum's certificate


class FinalityTracker:
    """Attestations of the founding peers of ``genesis``, per height, and the certificates they
    form. ``key`` and ``node_id`` are this peer's (its genesis node entry). Safe to call from
    several threads."""

    def __init__(
        self, genesis: Genesis, key: KeyPair, node_id: str, *, horizon: int = DEFAULT_HORIZON
    ) -> None:
        self.chain_id = genesis.chain_id
        self.peers = founding_peer_keys(genesis)
        self.quorum = compute_quorum(len(self.peers))
        self.key = key
        self.node_id = node_id
        self.horizon = horizon
        self.is_founding_peer = self.peers.get(node_id) == key.public_key
        self.finalized_height = -1  # the highest height a certificate formed for
        self.divergence: Divergence | None = None
        self.rejected: Counter[str] = Counter()
        self.equivocations: list[tuple[Attestation, Attestation]] = []
        self._lock = threading.RLock()
        self._pending: dict[int, dict[str, Attestation]] = {}
        self._local: dict[int, tuple[bytes, bytes]] = {}  # height -> (block hash, state root)
        self._certificates: dict[int, FinalityCertificate] = {}  # formed, kept until pruned
        self._new: list[FinalityCertificate] = []  # ready to save
        self._held: dict[int, FinalityCertificate] = {}  # formed before this peer's commit
        self._top = -1  # the highest height this peer committed (peers cannot move it)
        self._floor = 0  # heights below are pruned

    # --- this peer -------------------------------------------------------------------------

    def attest(self, height: int, block_hash: bytes, state_root: bytes) -> Attestation:
        """Record this peer's commit of block ``height`` and sign its attestation. A peer that
        is not a founding peer records the commit (to detect divergence) and signs all the same;
        its attestation does not count towards a quorum."""
        message = attestation_sign_bytes(self.chain_id, height, block_hash, state_root)
        att = Attestation(
            self.chain_id,
            height,
            block_hash,
            state_root,
            self.node_id,
            self.key.public_key,
            self.key.sign(message),
        )
        with self._lock:
            self._local[height] = (block_hash, state_root)
            self._top = max(self._top, height)
            cert = self._certificates.get(height)
            if cert is not None:
                self._check_divergence(cert)
            for held in sorted(h for h in self._held if h <= height):
                self._offer(self._held.pop(held))
            if self.is_founding_peer and height not in self._certificates:
                self._accept(att)
            self._prune_window()
        return att

    # --- received attestations ---------------------------------------------------------------

    def add(self, att: Attestation) -> FinalityCertificate | None:
        """Take a received attestation; return the certificate it completes, if any. Raises a
        :class:`FinalityError` subclass (and counts it) for an attestation that does not hold,
        and :class:`Equivocation` for a peer's second, different attestation at a height. An
        attestation of a node that is not a founding peer (one added by governance) does not
        count towards a quorum: it is ignored and counted as ``not_founding``."""
        if att.node_id not in self.peers:
            with self._lock:
                self.rejected["not_founding"] += 1
            return None
        try:
            verify_attestation(att, self.chain_id, self.peers)
        except FinalityError as exc:
            with self._lock:
                self.rejected[exc.code] += 1
            raise
        with self._lock:
            if att.height < self._floor or att.height in self._certificates:
                self._ignore_settled(att)
                return None
            if att.height > max(self._top, self.finalized_height) + self.horizon:
                self.rejected["ahead"] += 1
                return None
            return self._accept(att)

    def _ignore_settled(self, att: Attestation) -> None:
        cert = self._certificates.get(att.height)
        if cert is not None and (cert.block_hash, cert.state_root) != (
            att.block_hash,
            att.state_root,
        ):
            self.rejected["conflicts_certificate"] += 1
        else:
            self.rejected["stale" if cert is None else "duplicate"] += 1

    def _accept(self, att: Attestation) -> FinalityCertificate | None:
        by_node = self._pending.setdefault(att.height, {})
        earlier = by_node.get(att.node_id)
        if earlier is not None:
            if (earlier.block_hash, earlier.state_root) == (att.block_hash, att.state_root):
                self.rejected["duplicate"] += 1
                return None
            self.rejected[Equivocation.code] += 1
            self.equivocations.append((earlier, att))
            raise Equivocation(
                f"peer {att.node_id!r} attested two different blocks at height {att.height}",
                node_id=att.node_id,
                height=att.height,
            )
        by_node[att.node_id] = att
        return self._try_certify(att)

    def _try_certify(self, att: Attestation) -> FinalityCertificate | None:
        agreeing = {
            node_id: a
            for node_id, a in self._pending[att.height].items()
            if (a.block_hash, a.state_root) == (att.block_hash, att.state_root)
        }
        if len(agreeing) < self.quorum:
            return None
        sigs = [(n, a.public_key, a.signature) for n, a in sorted(agreeing.items())]
        cert = FinalityCertificate(self.chain_id, att.height, att.block_hash, att.state_root, sigs)
        self._certificates[att.height] = cert
        del self._pending[att.height]
        self.finalized_height = max(self.finalized_height, att.height)
        self._check_divergence(cert)
        self._offer(cert)
        self._prune_window()
        return cert

    def _offer(self, cert: FinalityCertificate) -> None:
        """Release a certificate for saving once this peer committed the same block; hold it
        while this peer has not reached its height; never release one that disagrees."""
        local = self._local.get(cert.height)
        if local is None and cert.height > self._top:
            self._held[cert.height] = cert
        elif local is None or local == (cert.block_hash, cert.state_root):
            self._new.append(cert)

    def _check_divergence(self, cert: FinalityCertificate) -> None:
        local = self._local.get(cert.height)
        if local is None or local == (cert.block_hash, cert.state_root):
            return
        if self.divergence is None or cert.height < self.divergence.height:
            self.divergence = Divergence(
                cert.height, local[0], local[1], cert.block_hash, cert.state_root, cert.signers
            )

    # --- reading and pruning -----------------------------------------------------------------

    def pop_certificates(self) -> list[FinalityCertificate]:
        """The certificates ready to save since the last call: of blocks this peer committed
        with the same hash and state root (or committed before this tracker started). A
        certificate that forms before this peer's own commit is released by that commit; one
        that disagrees with it is never released (see :attr:`divergence`)."""
        with self._lock:
            out, self._new = self._new, []
        return out

    def get_certificate(self, height: int) -> FinalityCertificate | None:
        """A certificate this tracker formed and has not pruned yet."""
        with self._lock:
            return self._certificates.get(height)

    def pending_heights(self) -> list[int]:
        """Heights with attestations but no certificate yet."""
        with self._lock:
            return sorted(self._pending)

    def prune(self, below: int) -> None:
        """Forget attestations, local commits and certificates of heights below ``below``;
        attestations for them are ignored from now on (``stale``)."""
        with self._lock:
            self._floor = max(self._floor, below)
            for table in (self._pending, self._local, self._certificates, self._held):
                for height in [h for h in table if h < self._floor]:
                    del table[height]

    def _prune_window(self) -> None:
        """Keep at most ``horizon`` heights below the highest known one."""
        floor = max(self._top, self.finalized_height) - self.horizon + 1
        if floor > self._floor:
            self.prune(floor)

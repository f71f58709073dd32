"""The finality tracker: attestations in, certificates out, deterministically (no I/O, no clock).
Four founding peers, so a quorum is three: one faulty peer can neither form nor block a
certificate."""

from __future__ import annotations

import hashlib

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.node.finality import Divergence, Equivocation, FinalityTracker
from govchain.types import Genesis, GenesisNode
from govchain.types.finality import (
    Attestation,
    FinalityError,
    attestation_sign_bytes,
    founding_peer_keys,
    verify_certificate,
)

CHAIN = "tracker-unit"
PEER_IDS = ("p0", "p1", "p2", "p3")


def key(label: str) -> KeyPair:
    return get_scheme(ED25519).from_seed(hashlib.sha256(label.encode()).digest())


GENESIS = Genesis(CHAIN, 0, [], [GenesisNode(p, "org", key(p).public_key.hex()) for p in PEER_IDS])


def block(height: int) -> bytes:
    return hashlib.sha256(b"block-%d" % height).digest()


def root(height: int, fork: str = "") -> bytes:
    return hashlib.sha256(b"root-%d" % height + fork.encode()).digest()


def attest(node: str, height: int, fork: str = "") -> Attestation:
    pair = key(node)
    message = attestation_sign_bytes(CHAIN, height, block(height), root(height, fork))
    return Attestation(
        CHAIN, height, block(height), root(height, fork), node, pair.public_key, pair.sign(message)
    )


@pytest.fixture
def tracker() -> FinalityTracker:
    return FinalityTracker(GENESIS, key("p0"), "p0", horizon=8)


def test_quorum_of_peers_forms_a_certificate(tracker: FinalityTracker) -> None:
    own = tracker.attest(1, block(1), root(1))
    assert own == attest("p0", 1)
    assert tracker.add(attest("p1", 1)) is None
    cert = tracker.add(attest("p3", 1))
    assert cert is not None and cert.signers == ["p0", "p1", "p3"]
    verify_certificate(cert, CHAIN, founding_peer_keys(GENESIS), block_hash=block(1))
    assert tracker.finalized_height == 1
    assert tracker.pop_certificates() == [cert]
    assert tracker.pop_certificates() == []
    assert tracker.divergence is None
    assert tracker.add(attest("p2", 1)) is None  # late, agreeing: nothing new
    assert tracker.rejected["duplicate"] == 1


def test_certificate_forms_before_the_local_commit(tracker: FinalityTracker) -> None:
    for peer in ("p1", "p2", "p3"):
        cert = tracker.add(attest(peer, 5))
    assert cert is not None and tracker.finalized_height == 5
    assert tracker.pop_certificates() == []  # not saved before this peer holds the block
    tracker.attest(5, block(5), root(5))
    assert tracker.pop_certificates() == [cert]
    assert tracker.divergence is None


def test_certificates_of_blocks_committed_before_the_tracker_started() -> None:
    tracker = FinalityTracker(GENESIS, key("p0"), "p0")
    tracker.attest(9, block(9), root(9))  # the tip, attested again at start
    for peer in ("p1", "p2", "p3"):
        tracker.add(attest(peer, 4))
    assert [c.height for c in tracker.pop_certificates()] == [4]


def test_a_faulty_peer_cannot_form_a_certificate_for_its_root(tracker: FinalityTracker) -> None:
    tracker.attest(2, block(2), root(2))
    assert tracker.add(attest("p3", 2, fork="faulty")) is None
    assert tracker.add(attest("p1", 2)) is None
    cert = tracker.add(attest("p2", 2))
    assert cert is not None and cert.state_root == root(2)
    assert "p3" not in cert.signers


def test_divergence_when_the_quorum_certifies_another_root(tracker: FinalityTracker) -> None:
    tracker.attest(3, block(3), root(3, fork="local bug"))
    for peer in ("p1", "p2"):
        assert tracker.add(attest(peer, 3)) is None
    cert = tracker.add(attest("p3", 3))
    assert cert is not None and cert.state_root == root(3)
    assert tracker.pop_certificates() == []  # never saved over what this peer committed
    assert tracker.divergence == Divergence(
        3, block(3), root(3, "local bug"), block(3), root(3), ["p1", "p2", "p3"]
    )


def test_divergence_found_when_committing_after_the_certificate(tracker: FinalityTracker) -> None:
    for peer in ("p1", "p2", "p3"):
        tracker.add(attest(peer, 4))
    tracker.attest(4, block(4), root(4, fork="late and wrong"))
    assert tracker.divergence is not None and tracker.divergence.height == 4


@pytest.mark.parametrize(
    ("att", "code"),
    [
        (msgspec.structs.replace(attest("p1", 1), chain_id="other"), "FINALITY_WRONG_CHAIN"),
        (msgspec.structs.replace(attest("p1", 1), state_root=root(9)), "FINALITY_BAD_SIGNATURE"),
        (msgspec.structs.replace(attest("p1", 1), node_id="p2"), "FINALITY_UNKNOWN_SIGNER"),
    ],
    ids=["wrong-chain", "forged", "impersonation"],
)
def test_invalid_attestations_are_rejected_and_counted(
    tracker: FinalityTracker, att: Attestation, code: str
) -> None:
    with pytest.raises(FinalityError) as caught:
        tracker.add(att)
    assert caught.value.code == code
    assert tracker.rejected[code] == 1
    assert tracker.pending_heights() == []


def test_attestations_of_nodes_added_later_are_ignored_quietly(tracker: FinalityTracker) -> None:
    """A node governance added attests too, but only founding peers count towards a quorum:
    its attestations are counted as ignored, never raised as errors."""
    tracker.attest(1, block(1), root(1))
    for _ in range(3):
        assert tracker.add(attest("p4", 1)) is None
    assert tracker.add(attest("stranger", 1)) is None
    assert tracker.rejected["not_founding"] == 4
    assert tracker.add(attest("p1", 1)) is None
    assert tracker.finalized_height == -1  # p0 and p1: not yet a quorum of the founders
    assert tracker.add(attest("p2", 1)) is not None


def test_forged_attestations_never_complete_a_quorum(tracker: FinalityTracker) -> None:
    tracker.attest(1, block(1), root(1))
    tracker.add(attest("p1", 1))
    forged = msgspec.structs.replace(attest("p2", 1), signature=attest("p3", 1).signature)
    with pytest.raises(FinalityError):
        tracker.add(forged)
    assert tracker.finalized_height == -1


def test_equivocation_is_rejected_and_recorded(tracker: FinalityTracker) -> None:
    first = attest("p1", 6)
    tracker.add(first)
    second = attest("p1", 6, fork="other")
    with pytest.raises(Equivocation) as caught:
        tracker.add(second)
    assert caught.value.code == "FINALITY_EQUIVOCATION"
    assert tracker.equivocations == [(first, second)]
    assert tracker.add(first) is None  # the same attestation again is a harmless duplicate


def test_attestations_far_ahead_are_ignored(tracker: FinalityTracker) -> None:
    tracker.attest(1, block(1), root(1))
    assert tracker.add(attest("p1", 1 + 8)) is None
    assert tracker.rejected["ahead"] == 0
    assert tracker.add(attest("p1", 1 + 9)) is None
    assert tracker.rejected["ahead"] == 1
    assert tracker.pending_heights() == [1, 9]


def test_old_heights_are_pruned(tracker: FinalityTracker) -> None:
    tracker.add(attest("p1", 1))
    for height in range(1, 12):
        tracker.attest(height, block(height), root(height))
    assert min(tracker.pending_heights()) == 11 - 8 + 1
    assert tracker.add(attest("p2", 1)) is None
    assert tracker.rejected["stale"] == 1
    tracker.prune(11)
    assert tracker.pending_heights() == [11]


def test_a_single_founding_peer_certifies_its_own_blocks() -> None:
    genesis = Genesis(CHAIN, 0, [], [GenesisNode("p0", "org", key("p0").public_key.hex())])
    tracker = FinalityTracker(genesis, key("p0"), "p0")
    tracker.attest(1, block(1), root(1))
    assert [c.signers for c in tracker.pop_certificates()] == [["p0"]]
    assert tracker.get_certificate(1) is not None


def test_a_peer_that_is_not_founding_does_not_vote() -> None:
    tracker = FinalityTracker(GENESIS, key("late-peer"), "late-peer")
    assert not tracker.is_founding_peer
    tracker.attest(1, block(1), root(1, fork="diverged"))
    assert tracker.pending_heights() == []
    for peer in ("p0", "p1", "p2"):
        tracker.add(attest(peer, 1))
    assert tracker.finalized_height == 1
    assert tracker.divergence is not None


@settings(max_examples=60, deadline=None)
@given(data=st.data(), peers=st.integers(min_value=1, max_value=7))
def test_faulty_minority_never_certifies_its_root(data: st.DataObject, peers: int) -> None:
    ids = [f"p{i}" for i in range(peers)]
    genesis = Genesis(CHAIN, 0, [], [GenesisNode(p, "org", key(p).public_key.hex()) for p in ids])
    faulty = data.draw(st.sets(st.sampled_from(ids), max_size=(peers - 1) // 3))
    atts = [attest(p, 1, fork="faulty" if p in faulty else "") for p in ids]
    order = data.draw(st.permutations(atts))
    tracker = FinalityTracker(genesis, key("observer"), "observer")
    formed = [c for a in order if (c := tracker.add(a)) is not None]
    assert [c.state_root for c in formed] == [root(1)]  # honest peers are a quorum on their own
    assert not set(formed[0].signers) & faulty

"""Issuer keys resolved offline from a verification bundle or a trust file exported from the
chain, each checked against the genesis trust anchor."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest
from certs_world import CertWorld, key_for, make_world

from govchain.app.credential_bundle import build_credential_bundle, build_issuer_trust
from govchain.client.issuer_keys import IssuerKeyUntrusted, get_bundle_keys, get_trust_file_keys
from govchain.client.verify import TrustAnchor
from govchain.credentials.bundle import decode_issuer_trust, encode_issuer_trust
from govchain.credentials.vc import compute_credential_hash
from govchain.errors import GovchainError


@pytest.fixture
def w(chain: Any) -> CertWorld:
    return make_world(chain)


def trust_of(w: CertWorld) -> TrustAnchor:
    return TrustAnchor(w.chain.chain_id, w.chain.app.genesis_hash, [w.chain.node_key.public_key])


def test_trust_file_gives_the_issuing_members_open_keys(w: CertWorld) -> None:
    exported = decode_issuer_trust(encode_issuer_trust(build_issuer_trust(w.chain.app, ["tax"])))
    keys = get_trust_file_keys(exported, trust_of(w))
    assert keys[w.method_of("tax:issuer")].public_key == w.issuer.public_key
    assert keys[w.method_of("tax:officer")].public_key == w.officer.public_key
    assert all(k.source == "trust file" for k in keys.values())
    assert not any("tax:admin" in kid for kid in keys)  # admins administer, they do not issue


def test_a_rotated_key_is_not_in_a_later_trust_file(w: CertWorld) -> None:
    new = key_for("tax-issuer-2")
    rotate = {
        "id": "tax:issuer",
        "old_public_key": w.issuer.public_key,
        "new_public_key": new.public_key,
    }
    w.ok(w.issuer, "rotate_key", rotate, contract="identity", cosign=(new,))
    keys = get_trust_file_keys(build_issuer_trust(w.chain.app, ["tax"]), trust_of(w))
    assert w.method_of("tax:issuer", 1) not in keys
    assert keys[w.method_of("tax:issuer", 2)].public_key == new.public_key


def test_a_forged_trust_file_is_refused(w: CertWorld) -> None:
    exported = build_issuer_trust(w.chain.app, ["tax"])
    entry = exported.identities[-1]
    raw = bytearray(bytes.fromhex(entry.value or ""))
    raw[-1] ^= 1
    forged = msgspec.structs.replace(
        exported,
        identities=[*exported.identities[:-1], msgspec.structs.replace(entry, value=raw.hex())],
    )
    with pytest.raises(GovchainError) as caught:
        get_trust_file_keys(forged, trust_of(w))
    assert caught.value.code == "ISSUER_KEY_UNTRUSTED"


def test_a_trust_file_of_another_chain_is_refused(w: CertWorld) -> None:
    exported = build_issuer_trust(w.chain.app, ["tax"])
    other = TrustAnchor("elsewhere", w.chain.app.genesis_hash, [w.chain.node_key.public_key])
    with pytest.raises(IssuerKeyUntrusted):
        get_trust_file_keys(exported, other)
    stranger = TrustAnchor(w.chain.chain_id, w.chain.app.genesis_hash, [key_for("x").public_key])
    with pytest.raises(IssuerKeyUntrusted) as caught:
        get_trust_file_keys(exported, stranger)
    assert "does not verify" in caught.value.message


def test_bundle_gives_the_key_valid_at_issuance(w: CertWorld) -> None:
    vc = w.issue()
    bundle = build_credential_bundle(w.chain.app, compute_credential_hash(vc), credential=vc)
    keys = get_bundle_keys(bundle, trust_of(w), w.chain.header.time_ms)
    assert keys[w.method_of()].public_key == w.issuer.public_key
    assert keys[w.method_of()].source == "bundle"


def test_a_bundle_that_does_not_verify_gives_no_key(w: CertWorld) -> None:
    vc = w.issue()
    bundle = build_credential_bundle(w.chain.app, compute_credential_hash(vc), credential=vc)
    changed = copy.deepcopy(vc)
    changed["credentialSubject"]["name"] = "Someone Else"
    with pytest.raises(IssuerKeyUntrusted) as caught:
        get_bundle_keys(msgspec.structs.replace(bundle, credential=changed), trust_of(w), 0)
    assert "signature" in caught.value.message

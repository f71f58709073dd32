"""Signatures and hashing: Ed25519 behind the scheme interface, batch verification, tags."""

from __future__ import annotations

import hashlib

import pytest

from govchain.crypto import (
    ED25519,
    ZERO_HASH,
    Ed25519Scheme,
    KeyPair,
    get_scheme,
    sha256,
    tagged_hash,
    verify_many,
)

# RFC 8032, section 7.1, TEST 1 to TEST 3: (secret key, public key, message, signature).
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]

SCHEME = get_scheme(ED25519)


def _key(label: str) -> KeyPair:
    return SCHEME.from_seed(hashlib.sha256(label.encode()).digest())


# --- RFC 8032 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sk", "pk", "msg", "sig"), RFC8032, ids=["test1", "test2", "test3"])
def test_rfc8032_vectors(sk: str, pk: str, msg: str, sig: str) -> None:
    seed, public, message, signature = (bytes.fromhex(x) for x in (sk, pk, msg, sig))
    key = SCHEME.from_seed(seed)
    assert key.public_key == public
    assert key.seed == seed
    assert key.scheme == ED25519
    assert key.sign(message) == signature  # Ed25519 is deterministic
    assert SCHEME.verify(public, message, signature)
    assert not SCHEME.verify(public, message + b"\x00", signature)


# --- sign and verify -----------------------------------------------------------------------------


def test_sign_and_verify() -> None:
    key = _key("alice")
    sig = key.sign(b"hello")
    assert len(sig) == SCHEME.signature_size == 64
    assert len(key.public_key) == SCHEME.public_key_size == 32
    assert SCHEME.verify(key.public_key, b"hello", sig)
    assert SCHEME.sign(key.seed, b"hello") == sig


def test_generate_gives_fresh_working_keys() -> None:
    one, two = SCHEME.generate(), SCHEME.generate()
    assert one.public_key != two.public_key
    assert SCHEME.from_seed(one.seed) == one
    assert SCHEME.verify(one.public_key, b"m", one.sign(b"m"))


@pytest.mark.parametrize(
    "case",
    [
        "wrong key",
        "wrong message",
        "flipped signature bit",
        "short signature",
        "long signature",
        "empty signature",
        "short key",
        "long key",
        "empty key",
        "key not on the curve",
        "all-zero signature",
    ],
)
def test_verify_returns_false_never_raises(case: str) -> None:
    alice, bob = _key("alice"), _key("bob")
    sig = alice.sign(b"msg")
    public, message, signature = alice.public_key, b"msg", sig
    if case == "wrong key":
        public = bob.public_key
    elif case == "wrong message":
        message = b"msh"
    elif case == "flipped signature bit":
        signature = bytes([sig[0] ^ 1]) + sig[1:]
    elif case == "short signature":
        signature = sig[:63]
    elif case == "long signature":
        signature = sig + b"\x00"
    elif case == "empty signature":
        signature = b""
    elif case == "short key":
        public = public[:31]
    elif case == "long key":
        public = public + b"\x00"
    elif case == "empty key":
        public = b""
    elif case == "key not on the curve":
        public = bytes.fromhex("02" + "00" * 31)
    elif case == "all-zero signature":
        signature = bytes(64)
    assert SCHEME.verify(public, message, signature) is False


def test_verify_odd_inputs_return_false() -> None:
    assert SCHEME.verify(b"\xff" * 32, b"", b"\xff" * 64) is False
    assert Ed25519Scheme().verify(_key("a").public_key, b"", b"\x00" * 64) is False


def test_unknown_scheme() -> None:
    with pytest.raises(KeyError, match="sm2"):
        get_scheme("sm2")


# --- batch verification --------------------------------------------------------------------------


def _items(count: int, bad: set[int]) -> list[tuple[str, bytes, bytes, bytes]]:
    items = []
    for i in range(count):
        key = _key(f"signer-{i % 7}")
        message = b"message %d" % i
        signature = key.sign(message)
        if i in bad:
            kind = i % 4
            if kind == 0:
                signature = bytes([signature[5] ^ 0x40]) + signature[1:]
            elif kind == 1:
                message = message + b"!"
            elif kind == 2:
                signature = signature[:10]
            else:
                items.append(("sm2", key.public_key, message, signature))
                continue
        items.append((ED25519, key.public_key, message, signature))
    return items


def test_verify_many_serial() -> None:
    items = _items(10, {3, 6})
    assert verify_many(items) == [i not in {3, 6} for i in range(10)]
    assert verify_many([]) == []


@pytest.mark.parametrize("workers", [2, 3])
def test_verify_many_parallel_equals_serial(workers: int) -> None:
    bad = {0, 41, 42, 43, 99, 100, 157, 199}
    items = _items(200, bad)
    serial = verify_many(items, workers=1)
    parallel = verify_many(items, workers=workers, min_parallel=2)
    assert parallel == serial == [i not in bad for i in range(200)]


def test_verify_many_parallel_small_and_uneven_batches() -> None:
    for count in (2, 3, 5, 64, 65):
        items = _items(count, {count // 2})
        expected = [i != count // 2 for i in range(count)]
        assert verify_many(items, min_parallel=1) == expected


def test_verify_many_accepts_any_iterable() -> None:
    items = _items(5, {4})
    assert verify_many(iter(items), min_parallel=1) == [True, True, True, True, False]


# --- hashing -------------------------------------------------------------------------------------


def test_sha256() -> None:
    assert sha256(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert bytes(32) == ZERO_HASH


def test_tagged_hash_is_sha256_of_tag_zero_data() -> None:
    assert tagged_hash(b"t", b"d") == hashlib.sha256(b"t\x00d").digest()


def test_tagged_hash_domain_separation() -> None:
    data = b"same bytes"
    tags = [b"govchain/tx/v1", b"govchain/header/v1", b"govchain/receipt/v1", b""]
    hashes = {tagged_hash(tag, data) for tag in tags}
    assert len(hashes) == len(tags)
    assert sha256(data) not in hashes
    # The separator keeps tag and data apart: moving a byte across the boundary changes the hash.
    assert tagged_hash(b"ab", b"c") != tagged_hash(b"a", b"bc")

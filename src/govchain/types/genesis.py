"""The genesis document: the chain id, the founding organisations, their keys and nodes, and the
initial chain parameters. Its canonical hash is the ``prev_hash`` of block 0, so the genesis block
hash — the chain's trust anchor — commits to all of it."""

from __future__ import annotations

import msgspec

from govchain.crypto.hashing import tagged_hash

__all__ = ["ChainParams", "Genesis", "GenesisNode", "GenesisOrg", "compute_genesis_digest"]


class ChainParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    max_block_txs: int = 5000
    max_block_bytes: int = 4 * 1024 * 1024
    max_tx_bytes: int = 64 * 1024
    block_interval_ms: int = 200  # the longest a transaction waits for its block to be cut
    max_tx_lifetime: int = 600  # blocks; valid_until may be at most this far ahead


class GenesisOrg(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    id: str  # short identifier, e.g. "market-regulation"
    name: str  # English display name
    name_zh: str  # Chinese display name
    kind: str  # department | district | enterprise | bureau
    admin_keys: list[str]  # hex Ed25519 public keys of the organisation's admins


class GenesisNode(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    id: str
    org: str
    public_key: str  # hex Ed25519 key that signs blocks (and later attestations)


class Genesis(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    chain_id: str
    genesis_time_ms: int
    orgs: list[GenesisOrg]
    nodes: list[GenesisNode]
    params: ChainParams = msgspec.field(default_factory=ChainParams)


def compute_genesis_digest(genesis: Genesis) -> bytes:
    from govchain.encoding import encode

    return tagged_hash(b"govchain/genesis/v1", encode(genesis))

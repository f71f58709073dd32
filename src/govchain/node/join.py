"""A new organisation's peer joining a running multi-node network.

The founding peers are named by the genesis; a peer added later is named by governance (the
``add_node`` action binds its node key to ``<org>:<node id>``). :func:`prepare_peer` writes what
the new peer needs next to the others in a network directory: its node key and a config that
names the same etcd cluster and every other peer's URL. Nothing here touches the chain: the
operator proposes ``add_node`` with the key's public half, and the peer starts once the proposal
is enacted (it then catches up from the other peers' block stores and follows the log).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.errors import ConfigError
from govchain.node.config import (
    NodeConfig,
    load_genesis,
    load_node_config,
    node_dir,
    save_key,
    save_node_config,
)
from govchain.node.pki import has_local_ca, issue_node_cert

__all__ = ["NewPeer", "get_node_ids", "get_peer_url", "next_node_id", "prepare_peer", "save_peer"]

_NODE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")  # as governance requires


@dataclass(frozen=True)
class NewPeer:
    """A peer prepared to join: its key (not yet saved) and its config."""

    org: str
    key: KeyPair
    config: NodeConfig

    @property
    def node_id(self) -> str:
        return self.config.node_id


def get_node_ids(network_dir: Path) -> list[str]:
    """The peers of a network directory: the genesis nodes in their order, then every other
    node directory with a config (peers that joined later), by name."""
    founding = [n.id for n in load_genesis(network_dir).nodes]
    nodes = network_dir / "nodes"
    joined = sorted(
        p.name
        for p in (nodes.iterdir() if nodes.is_dir() else [])
        if p.name not in founding and (p / "config.json").is_file()
    )
    return founding + joined


def get_peer_url(config: NodeConfig) -> str:
    return f"{config.scheme}://{config.host}:{config.port}"


def next_node_id(network_dir: Path) -> str:
    """``node<N>`` with the lowest N that no node of the directory uses."""
    taken = set(get_node_ids(network_dir)) | {
        p.name for p in (network_dir / "nodes").glob("*") if p.is_dir()
    }
    n = 0
    while f"node{n}" in taken:
        n += 1
    return f"node{n}"


def prepare_peer(network_dir: Path, org: str, node_id: str, port: int) -> NewPeer:
    """A new node key and a config for peer ``node_id`` of ``org`` on ``port``: the etcd
    settings of the network's peers (endpoints, TLS files, retention) and every other peer's
    URL. Raises :class:`ConfigError` when the directory is not a multi-node network or the id
    is taken."""
    if not _NODE_ID.match(node_id):
        raise ConfigError(f"node id {node_id!r} must match {_NODE_ID.pattern}")
    existing = get_node_ids(network_dir)
    if node_id in existing or node_dir(network_dir, node_id).exists():
        raise ConfigError(
            f"{node_dir(network_dir, node_id)} exists already",
            hint="Choose another --node-id (or leave it out to take the next free one).",
        )
    configs = [load_node_config(network_dir, n) for n in existing]
    template = next((c for c in configs if c.etcd is not None), None)
    if template is None or template.etcd is None:
        raise ConfigError(
            f"{network_dir} is not a multi-node network: no peer's config names an etcd cluster",
            hint="Create one with `govchain network up --orgs N --dir DIR`.",
        )
    config = NodeConfig(
        node_id,
        host=template.host,
        port=port,
        etcd=template.etcd,
        peers=[get_peer_url(c) for c in configs],
        tls=template.tls,
    )
    return NewPeer(org, get_scheme(ED25519).generate(), config)


def save_peer(network_dir: Path, peer: NewPeer) -> Path:
    """Write the peer's node key (mode 0600) and config — and, in a ``--tls`` network with its
    local CA, its certificate; tell the other peers of the directory about it (their
    ``peers``). Returns the node directory."""
    save_key(node_dir(network_dir, peer.node_id) / "node.key", peer.key, org=peer.org, role="node")
    save_node_config(network_dir, peer.config)
    if peer.config.tls is not None and has_local_ca(network_dir):
        issue_node_cert(network_dir, peer.node_id)  # else the operator's PKI provides its files
    url = get_peer_url(peer.config)
    for other in get_node_ids(network_dir):
        if other == peer.node_id:
            continue
        config = load_node_config(network_dir, other)
        if url not in config.peers:
            config.peers.append(url)
            save_node_config(network_dir, config)
    return node_dir(network_dir, peer.node_id)

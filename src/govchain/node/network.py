"""Create a network directory: genesis, organisations' keys, node keys and config.

:func:`init_network` makes a single-node network (the solo orderer); :func:`init_peer_network`
makes a multi-node one: every founding organisation runs one peer, each with its own node key in
the genesis, its own API port and the etcd cluster that orders the blocks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from govchain.crypto.signing import ED25519, get_scheme
from govchain.errors import ConfigError
from govchain.node.config import (
    ApiTls,
    EtcdSettings,
    NodeConfig,
    node_dir,
    save_genesis,
    save_key,
    save_node_config,
)
from govchain.node.pki import CA_FILE, NODE_CERT, NODE_KEY
from govchain.types import ChainParams, Genesis, GenesisNode, GenesisOrg

__all__ = ["SAMPLE_CITY", "OrgSpec", "init_network", "init_peer_network", "sample_orgs"]


@dataclass(frozen=True)
class OrgSpec:
    id: str
    name: str
    name_zh: str
    kind: str


SAMPLE_CITY: tuple[OrgSpec, ...] = (
    OrgSpec("big-data-bureau", "Municipal Big Data Bureau", "市大数据局", "bureau"),
    OrgSpec(
        "market-regulation", "Market Regulation Administration", "市场监督管理局", "department"
    ),
    OrgSpec("tax", "Tax Bureau", "税务局", "department"),
    OrgSpec("health-commission", "Health Commission", "卫生健康委员会", "department"),
    OrgSpec("haishu-district", "Haishu District", "海曙区", "district"),
)


def init_network(
    directory: Path,
    *,
    chain_id: str = "govchain-local",
    orgs: tuple[OrgSpec, ...] = SAMPLE_CITY,
    host: str = "127.0.0.1",
    port: int = 8700,
    params: ChainParams | None = None,
    force: bool = False,
) -> Genesis:
    """Write a new single-node network; the first organisation runs the node."""
    if (directory / "genesis.json").exists() and not force:
        raise ConfigError(
            f"{directory} already holds a network",
            hint="Choose another --dir, or pass --force to overwrite it.",
        )
    if not orgs:
        raise ConfigError("a network needs at least one organisation")
    scheme = get_scheme(ED25519)
    genesis_orgs = []
    for spec in orgs:
        admin = scheme.generate()
        save_key(directory / "orgs" / spec.id / "admin.key", admin, org=spec.id, role="admin")
        genesis_orgs.append(
            GenesisOrg(spec.id, spec.name, spec.name_zh, spec.kind, [admin.public_key.hex()])
        )
    node_key = scheme.generate()
    node_id = "node0"
    save_key(node_dir(directory, node_id) / "node.key", node_key, org=orgs[0].id, role="node")
    save_node_config(directory, NodeConfig(node_id, host=host, port=port))
    genesis = Genesis(
        chain_id,
        time.time_ns() // 1_000_000,
        genesis_orgs,
        [GenesisNode(node_id, orgs[0].id, node_key.public_key.hex())],
        params or ChainParams(),
    )
    save_genesis(directory, genesis)
    return genesis


def sample_orgs(count: int) -> tuple[OrgSpec, ...]:
    """``count`` founding organisations: the sample city's, then numbered districts."""
    extra = tuple(
        OrgSpec(f"district-{i}", f"District {i}", f"第{i}区", "district")
        for i in range(len(SAMPLE_CITY) + 1, count + 1)
    )
    return (SAMPLE_CITY + extra)[:count]


def init_peer_network(
    directory: Path,
    *,
    orgs: int,
    ports: list[int],
    etcd_endpoints: list[str],
    chain_id: str = "govchain-local",
    host: str = "127.0.0.1",
    params: ChainParams | None = None,
    force: bool = False,
    tls: bool = False,
) -> Genesis:
    """Write a multi-node network: organisation ``i`` runs peer ``node<i>`` on ``ports[i]``,
    ordering on the etcd cluster at ``etcd_endpoints``; every peer knows the others' URLs.
    With ``tls`` each peer serves its API over HTTPS and authenticates to etcd and to the other
    peers with its certificate (files under its ``tls/``, made by :mod:`govchain.node.pki`)."""
    if orgs < 1 or len(ports) != orgs:
        raise ConfigError(f"{orgs} organisations need {orgs} ports, got {len(ports)}")
    specs = sample_orgs(orgs)
    genesis = init_network(
        directory,
        chain_id=chain_id,
        orgs=specs,
        host=host,
        port=ports[0],
        params=params,
        force=force,
    )
    scheme = get_scheme(ED25519)
    nodes = [genesis.nodes[0]]
    for i in range(1, orgs):
        key = scheme.generate()
        save_key(node_dir(directory, f"node{i}") / "node.key", key, org=specs[i].id, role="node")
        nodes.append(GenesisNode(f"node{i}", specs[i].id, key.public_key.hex()))
    urls = [f"{'https' if tls else 'http'}://{host}:{port}" for port in ports]
    api_tls = ApiTls(NODE_CERT, NODE_KEY, CA_FILE) if tls else None
    for i, port in enumerate(ports):
        others = [u for j, u in enumerate(urls) if j != i]
        etcd = EtcdSettings(list(etcd_endpoints))
        if tls:
            etcd = EtcdSettings(list(etcd_endpoints), CA_FILE, NODE_CERT, NODE_KEY)
        config = NodeConfig(f"node{i}", host=host, port=port, etcd=etcd, peers=others, tls=api_tls)
        save_node_config(directory, config)
    genesis = Genesis(
        genesis.chain_id, genesis.genesis_time_ms, genesis.orgs, nodes, genesis.params
    )
    save_genesis(directory, genesis)
    return genesis

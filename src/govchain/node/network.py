"""Create a network directory: genesis, organisations' keys, node keys and config."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from govchain.crypto.signing import ED25519, get_scheme
from govchain.errors import ConfigError
from govchain.node.config import NodeConfig, node_dir, save_genesis, save_key, save_node_config
from govchain.types import ChainParams, Genesis, GenesisNode, GenesisOrg

__all__ = ["SAMPLE_CITY", "OrgSpec", "init_network"]


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

"""The node: composition root, configuration, lifecycle, events and metrics."""

from govchain.node.config import NodeConfig, load_genesis, load_key, load_node_config
from govchain.node.network import SAMPLE_CITY, init_network, init_peer_network
from govchain.node.runtime import Node, SubmitResult

__all__ = [
    "SAMPLE_CITY",
    "Node",
    "NodeConfig",
    "SubmitResult",
    "init_network",
    "init_peer_network",
    "load_genesis",
    "load_key",
    "load_node_config",
]

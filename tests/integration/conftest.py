"""Fixtures for integration tests: real node processes on free ports, networks in tmp dirs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .nodeproc import Network, NodeProcess, init_network

NodeFactory = Callable[..., NodeProcess]


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def network(tmp_path: Path) -> Network:
    """A fresh network directory (``govchain init``) with a free port."""
    return init_network(tmp_path / "net")


@pytest.fixture
def node(network: Network, tmp_path: Path) -> Iterator[NodeProcess]:
    """A running node of ``network``; stopped (then killed if need be) at the end."""
    proc = NodeProcess(network, tmp_path / "node.log")
    try:
        yield proc.start()
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def module_node_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[NodeFactory]:
    """Start nodes shared by a module's tests; each network is configured before its first start
    (``genesis`` chain parameters, ``config`` node settings)."""
    started: list[NodeProcess] = []

    def make(
        genesis: dict[str, Any] | None = None, config: dict[str, Any] | None = None
    ) -> NodeProcess:
        base = tmp_path_factory.mktemp("node")
        net = init_network(base / "net")
        if genesis:
            net.edit_genesis(**genesis)
        if config:
            net.edit_node_config(**config)
        proc = NodeProcess(net, base / "node.log")
        started.append(proc)
        return proc.start()

    try:
        yield make
    finally:
        for proc in started:
            proc.stop()


@pytest.fixture(scope="module")
def shared_node(module_node_factory: NodeFactory) -> NodeProcess:
    """One node with default parameters shared by a module's tests."""
    return module_node_factory()

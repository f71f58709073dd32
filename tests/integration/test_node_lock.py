"""Two node processes never write the same ledger: the second one refuses to start."""

from __future__ import annotations

import subprocess

from .nodeproc import NodeProcess, free_port, govchain_command


def test_a_second_node_on_the_same_directory_refuses_to_start(node: NodeProcess) -> None:
    second = subprocess.run(
        [
            *govchain_command(),
            "node",
            "start",
            "--dir",
            str(node.network.dir),
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert "CONFIG_INVALID" in second.stderr and "already running" in second.stderr
    assert node.status()["height"] >= 0  # the first node is unaffected


def test_the_lock_is_released_when_the_node_stops(node: NodeProcess) -> None:
    node.restart()  # stop, then start again on the same directory
    assert node.status()["height"] >= 0

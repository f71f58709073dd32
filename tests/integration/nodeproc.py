"""Real node processes on free ports, networks in tmp dirs (shared by integration and e2e
tests).

Every node is a separate ``govchain node start`` process; tests talk to it over HTTP only and
synchronise by waiting on conditions (the API answering, a transaction's fate), never by sleeping
for a fixed time. Reads beyond the public routes are signed: ``node.client()`` and
``network.signer()`` sign as a member (an organisation's admin) unless told otherwise.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from govchain.client import Client, RequestSigner, TrustAnchor
from govchain.crypto.signing import KeyPair
from govchain.node.config import load_key

MEMBER_ORG = "tax"  # whose admin key signs tests' reads unless they say otherwise
RESERVED_PORTS = {8700}  # the default port: other programs on this machine may be using it
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def govchain_command() -> list[str]:
    """The command line that runs the CLI of the interpreter running the tests."""
    script = Path(sys.executable).parent / "govchain"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "govchain"]


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port


def run_cli(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run ``govchain ARGS`` to completion and return its outcome (never raises on exit code)."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"}
    for name in ("GOVCHAIN_NODE", "GOVCHAIN_DIR", "GOVCHAIN_KEY"):
        env.pop(name, None)
    return subprocess.run(
        [*govchain_command(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


class Network:
    """A network directory made by ``govchain init`` with its node's port."""

    def __init__(self, directory: Path, port: int) -> None:
        self.dir = directory
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    @property
    def node_dir(self) -> Path:
        return self.dir / "nodes" / "node0"

    @property
    def db_path(self) -> Path:
        return self.node_dir / "data" / "ledger.db"

    @property
    def genesis(self) -> dict[str, Any]:
        return json.loads((self.dir / "genesis.json").read_text(encoding="utf-8"))

    def key(self, org: str) -> KeyPair:
        """An organisation's admin key from the network directory."""
        return load_key(self.dir / "orgs" / org / "admin.key")

    def signer(self, org: str = MEMBER_ORG) -> RequestSigner:
        """An ``httpx`` auth that signs requests as ``org``'s admin (a member)."""
        return RequestSigner(self.key(org))

    def edit_genesis(self, **params: Any) -> None:
        """Change chain parameters (only before the node's first start)."""
        path = self.dir / "genesis.json"
        genesis = json.loads(path.read_text(encoding="utf-8"))
        genesis["params"].update(params)
        path.write_text(json.dumps(genesis, indent=2), encoding="utf-8")

    def edit_node_config(self, **settings: Any) -> None:
        path = self.node_dir / "config.json"
        config = json.loads(path.read_text(encoding="utf-8"))
        config.update(settings)
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")

    def verify(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return run_cli("verify", "--dir", str(self.dir), *extra)


def init_network(directory: Path, port: int | None = None) -> Network:
    port = port or free_port()
    result = run_cli("init", "--dir", str(directory), "--port", str(port), "--json")
    assert result.returncode == 0, result.stderr + result.stdout
    return Network(directory, port)


class NodeProcess:
    """A running ``govchain node start`` process of a network."""

    def __init__(self, network: Network, log_path: Path) -> None:
        self.network = network
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return self.network.url

    @property
    def dir(self) -> Path:
        return self.network.dir

    def start(self) -> NodeProcess:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [*govchain_command(), "node", "start", "--dir", str(self.dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "NO_COLOR": "1"},
            )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Wait until ``/v1/status`` answers; fail with the node's log if it never does."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    pytest.fail(f"node exited with {self.process.returncode}:\n{self.log()}")
                try:
                    if http.get("/v1/status").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        pytest.fail(f"node did not answer within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop gracefully (SIGTERM); kill if it does not exit in time."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_S)

    def kill9(self) -> None:
        """Crash the node: SIGKILL, no chance to flush or close anything."""
        assert self.process is not None and self.process.poll() is None, "not running"
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT_S)

    def restart(self) -> NodeProcess:
        self.stop()
        return self.start()

    def client(
        self,
        *,
        trust: TrustAnchor | None = None,
        timeout: float = 30.0,
        key: KeyPair | None = None,
        anonymous: bool = False,
    ) -> Client:
        """A client signing with ``key``, by default a member's (``MEMBER_ORG``'s admin);
        ``anonymous`` for one without a key."""
        if key is None and not anonymous:
            key = self.network.key(MEMBER_ORG)
        return Client(self.url, key=key, trust=trust, timeout=timeout)

    def status(self) -> dict[str, Any]:
        response = httpx.get(self.url + "/v1/status", timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def trust_anchor(self) -> TrustAnchor:
        return trust_anchor(self.network, self.url)


def trust_anchor(network: Network, url: str) -> TrustAnchor:
    """What a careful client trusts: the chain id and node keys from genesis.json, and the
    genesis block's hash (block 0 as the node serves it)."""
    genesis = network.genesis
    block0 = httpx.get(url + "/v1/blocks/0", timeout=10, auth=network.signer()).json()
    return TrustAnchor(
        genesis["chain_id"],
        bytes.fromhex(block0["header"]["hash"]),
        [bytes.fromhex(n["public_key"]) for n in genesis["nodes"]],
    )

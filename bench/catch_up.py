"""Catch-up of a peer left far behind: .venv/bin/python bench/catch_up.py [BLOCKS] [--dir DIR]

Creates a local network of 4 peers and 3 etcd members (in DIR, a fresh temporary directory by
default) with one transaction per block, stops peer node3, drives the other three until they
are BLOCKS blocks (default 10,000) past it, starts node3 again and measures until it has the
same height and state root as the others. etcd keeps only the last `retain_blocks` (1,000)
batches, so node3 finds the log compacted and catches up from the other peers' block stores
(`node/sync.py`): every block is fetched, checked against its finality certificate, re-executed
and committed. Reports the seconds from the restart to convergence and the blocks per second.
The network is stopped at the end (its directory is kept when given with --dir).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from govchain.client import build_tx
from govchain.contracts.notary import AnchorArgs
from govchain.node.config import load_genesis, load_key, load_node_config
from govchain.node.launcher import (
    EtcdCluster,
    EtcdMember,
    peer_command,
    pid_path,
    read_pid,
    save_cluster,
    spawn,
    stop_pid,
)
from govchain.node.network import init_peer_network
from govchain.types import ChainParams

LAGGARD = "node3"
GOVCHAIN = [sys.executable, "-m", "govchain"]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def create(directory: Path, lifetime: int) -> None:
    members = [EtcdMember(f"etcd{i}", free_port(), free_port()) for i in range(3)]
    cluster = EtcdCluster("catch-up-etcd", members)
    params = ChainParams(max_block_txs=1, max_tx_lifetime=lifetime)
    init_peer_network(
        directory,
        orgs=4,
        ports=[free_port() for _ in range(4)],
        etcd_endpoints=cluster.endpoints,
        chain_id="catch-up-bench",
        params=params,
    )
    save_cluster(directory, cluster)


def url_of(directory: Path, node_id: str) -> str:
    config = load_node_config(directory, node_id)
    return f"http://{config.host}:{config.port}"


def status(url: str) -> dict[str, object]:
    result: dict[str, object] = httpx.get(url + "/v1/status", timeout=10).json()
    return result


def height(url: str) -> int:
    return int(str(status(url)["height"]))


def drive(directory: Path, urls: list[str], target: int, lifetime: int) -> None:
    """Submit one-transaction blocks' worth to each live peer until the first reaches
    ``target``."""
    genesis = load_genesis(directory)
    done = threading.Event()
    tag = os.urandom(8)

    def run(n: int) -> None:
        node = genesis.nodes[n]
        key = load_key(directory / "orgs" / node.org / "admin.key")
        i = 0
        with httpx.Client(base_url=urls[n], timeout=60) as http:
            while not done.is_set():
                valid_until = height(urls[n]) + lifetime - 10
                raws = []
                for _ in range(50):
                    digest = hashlib.sha256(tag + bytes([n]) + i.to_bytes(8, "big")).digest()
                    args = AnchorArgs(digest, f"catch-up {n}/{i}", node.org)
                    raws.append(
                        build_tx(
                            key,
                            chain_id=genesis.chain_id,
                            contract="notary",
                            method="anchor",
                            args=args,
                            valid_until=valid_until,
                        )
                    )
                    i += 1
                payload = {"txs": [base64.b64encode(r).decode() for r in raws]}
                while not done.is_set():
                    resp = http.post("/v1/txs/batch", json=payload)
                    if resp.status_code not in (429, 503):
                        resp.raise_for_status()
                        break
                    time.sleep(0.2)
                # keep the mempool short: wait while this peer has much uncommitted work
                while not done.is_set() and _mempool(http) > 200:
                    time.sleep(0.05)

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(len(urls))]
    for t in threads:
        t.start()
    start, last = time.monotonic(), -1
    while True:
        h = height(urls[0])
        if h >= target:
            break
        if h // 1000 != last // 1000:
            rate = h / max(time.monotonic() - start, 1e-9)
            print(f"  driving: height {h} of {target} ({rate:.0f} blocks/s)", flush=True)
        last = h
        time.sleep(1.0)
    done.set()
    for t in threads:
        t.join()


def _mempool(http: httpx.Client) -> int:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("govchain_mempool_txs "):
            return int(float(line.split()[1]))
    return 0


def settle(urls: list[str], timeout: float = 120.0) -> tuple[int, str]:
    """Wait until the live peers agree and stop moving; their common (height, state root)."""
    deadline = time.monotonic() + timeout
    previous = None
    while time.monotonic() < deadline:
        tips = {(int(str(s["height"])), str(s["state_root"])) for s in map(status, urls)}
        if len(tips) == 1 and tips == previous:
            return tips.pop()
        previous = tips
        time.sleep(1.0)
    raise SystemExit(f"the live peers did not settle: {previous}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("blocks", type=int, nargs="?", default=10_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument(
        "--again",
        action="store_true",
        help="with --dir of an earlier run: restore node3's ledger as it was left behind and "
        "measure its catch-up once more (e.g. after a change to the code)",
    )
    args = parser.parse_args()
    keep = args.dir is not None
    directory = args.dir or Path(tempfile.mkdtemp(prefix="catch-up-")) / "net"
    if args.again:
        if not keep:
            raise SystemExit("--again needs the --dir of an earlier run")
        again(directory)
        return
    lifetime = args.blocks + 5_000
    if not (directory / "genesis.json").exists():
        create(directory, lifetime)
    up(directory)
    try:
        urls = [url_of(directory, f"node{i}") for i in range(4)]
        live = urls[:3]
        pid = read_pid(pid_path(directory, LAGGARD))
        assert pid is not None
        behind_at = height(urls[3])
        stop_pid(pid)
        print(f"stopped {LAGGARD} at height {behind_at}", flush=True)
        t0 = time.monotonic()
        drive(directory, live, behind_at + args.blocks, lifetime)
        tip, root = settle(live)
        print(f"drove the others to height {tip} in {time.monotonic() - t0:.0f} s", flush=True)
        data = directory / "nodes" / LAGGARD / "data"
        shutil.copytree(data, data.with_name("data.behind"), dirs_exist_ok=True)
        measure(directory, urls, tip, root, behind_at)
    finally:
        down(directory)
        if not keep:
            shutil.rmtree(directory.parent, ignore_errors=True)


def up(directory: Path) -> None:
    command = [*GOVCHAIN, "network", "up", "--dir", str(directory)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def down(directory: Path) -> None:
    command = [*GOVCHAIN, "network", "down", "--dir", str(directory)]
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL)


def again(directory: Path) -> None:
    """Measure the catch-up again from the ledger node3 had when it was left behind."""
    up(directory)
    try:
        urls = [url_of(directory, f"node{i}") for i in range(4)]
        pid = read_pid(pid_path(directory, LAGGARD))
        assert pid is not None
        stop_pid(pid)
        data = directory / "nodes" / LAGGARD / "data"
        behind = data.with_name("data.behind")
        shutil.rmtree(data)
        shutil.copytree(behind, data)
        (data / "LOCK").unlink(missing_ok=True)
        with sqlite3.connect(behind / "ledger.db") as db:
            behind_at = int(db.execute("SELECT MAX(height) FROM blocks").fetchone()[0])
        tip, root = settle(urls[:3])
        measure(directory, urls, tip, root, behind_at)
    finally:
        down(directory)


def measure(directory: Path, urls: list[str], tip: int, root: str, behind_at: int) -> None:
    """Start node3 and wait until it has the others' tip; print the figures."""
    log_file = directory / "logs" / f"{LAGGARD}.log"
    started = time.monotonic()
    spawn(peer_command(directory, LAGGARD), log_file, pid_path(directory, LAGGARD))
    answered = None
    while True:
        try:
            s = status(urls[3])
        except httpx.HTTPError:
            time.sleep(0.2)
            continue
        answered = answered or time.monotonic()
        if int(str(s["height"])) >= tip:
            converged = time.monotonic()
            break
        time.sleep(0.2)
    behind = tip - behind_at
    seconds = converged - started
    result = {
        "blocks_behind": behind,
        "tip": tip,
        "state_roots_equal": s["state_root"] == root and s["height"] == tip,
        "seconds": round(seconds, 1),
        "blocks_per_s": round(behind / seconds, 1),
        "seconds_after_api_up": round(converged - answered, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()

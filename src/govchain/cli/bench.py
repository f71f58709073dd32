"""`govchain bench`: measure a node from outside, the way a client sees it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
import httpx
from rich.progress import Progress

from govchain.cli.common import (
    json_option,
    key_options,
    load_signing_key,
    node_option,
    signing_org,
)
from govchain.cli.output import console, print_json, print_kv
from govchain.client import Client, build_tx, tx_id_of
from govchain.contracts.notary import AnchorArgs
from govchain.crypto.signing import ED25519, get_scheme
from govchain.errors import GovchainError

__all__ = ["bench", "measure_verify_rate"]


@click.group()
def bench() -> None:
    """Benchmarks against a running node or a multi-node network."""


def measure_verify_rate(seconds: float = 1.5) -> float:
    """This machine's single-core Ed25519 verifications per second (libsodium)."""
    scheme = get_scheme(ED25519)
    key = scheme.generate()
    message = os.urandom(200)
    signature = key.sign(message)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(500):
            scheme.verify(key.public_key, message, signature)
        count += 500
    return count / (time.perf_counter() - start)


class _CommitWatcher(threading.Thread):
    """Follows the node's block stream and records when each transaction committed."""

    def __init__(self, client: Client, from_height: int) -> None:
        super().__init__(daemon=True)
        self.client, self.from_height = client, from_height
        self.committed: dict[str, float] = {}
        self.heights: dict[str, int] = {}
        self.failed: set[str] = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            for block in self.client.events(self.from_height, timeout=None):
                now = time.perf_counter()
                with self.lock:
                    for tx_id in block["tx_ids"]:
                        self.committed[tx_id] = now
                        self.heights[tx_id] = block["header"]["height"]
                    self.failed.update(block.get("failed_tx_ids") or [])
                if self.stop.is_set():
                    return
        except Exception as exc:  # reported by the main thread
            self.error = exc


def _submit_all(
    client: Client,
    batches: list[list[bytes]],
    sent_at: dict[str, float],
    ids: list[list[str]],
    progress: Progress,
    task: Any,
    concurrency: int,
    window: int,
    watcher: _CommitWatcher,
) -> tuple[int, list[dict[str, Any]]]:
    rejected: list[dict[str, Any]] = []
    retries = 0
    lock = threading.Lock()

    def in_flight() -> int:
        with watcher.lock:
            done = len(watcher.committed)
        return len(sent_at) - done

    def send(i: int) -> None:
        nonlocal retries
        while window and in_flight() + len(batches[i]) > window:
            time.sleep(0.005)
        payload = {"txs": [base64.b64encode(r).decode() for r in batches[i]]}
        with httpx.Client(base_url=client.url, timeout=120, auth=client.auth) as http:
            while True:
                t = time.perf_counter()
                resp = http.post("/v1/txs/batch", json=payload)
                if resp.status_code in (429, 503):
                    with lock:
                        retries += 1
                    time.sleep(float(resp.headers.get("Retry-After", "1")) / 4)
                    continue
                resp.raise_for_status()
                break
        body = resp.json()
        with lock:
            for tx_id, item in zip(ids[i], body["results"], strict=True):
                if item["status"] == "pending":
                    sent_at[tx_id] = t
                else:
                    rejected.append(item)
            progress.update(task, advance=len(batches[i]))

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, range(len(batches))))
    return retries, rejected


@bench.command("notarize")
@click.option("--txs", "n_txs", default=20_000, show_default=True, help="Transactions to send.")
@click.option(
    "--batch", "batch_size", default=500, show_default=True, help="Transactions per HTTP request."
)
@click.option("--concurrency", default=2, show_default=True, help="Requests in flight.")
@click.option(
    "--window",
    default=4000,
    show_default=True,
    help="At most this many submitted, not yet committed transactions (0: no limit).",
)
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for commits.")
@key_options
@node_option
@json_option
def bench_notarize(
    n_txs: int,
    batch_size: int,
    concurrency: int,
    window: int,
    timeout: float,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Pre-sign N notarisations, submit them, wait for every commit, report the figures."""
    key = load_signing_key(key_file, network_dir, org)
    owner = signing_org(key_file, network_dir, org)
    client = Client(node_url, key=key)  # the block stream is for members: sign with the key
    status = client.status()
    valid_until = status["height"] + 500
    raws: list[bytes] = []
    ids: list[str] = []
    run_tag = os.urandom(8)
    with Progress(console=console, disable=as_json, transient=True) as progress:
        task = progress.add_task("signing", total=n_txs)
        for i in range(n_txs):
            digest = hashlib.sha256(run_tag + i.to_bytes(8, "big")).digest()
            raw = build_tx(
                key,
                chain_id=status["chain_id"],
                contract="notary",
                method="anchor",
                args=AnchorArgs(digest, f"bench document {i}", owner),
                valid_until=valid_until,
            )
            raws.append(raw)
            ids.append(tx_id_of(raw).hex())
            if i % 1000 == 0:
                progress.update(task, completed=i)
    batches = [raws[i : i + batch_size] for i in range(0, n_txs, batch_size)]
    id_batches = [ids[i : i + batch_size] for i in range(0, n_txs, batch_size)]
    watcher = _CommitWatcher(client, status["height"] + 1)
    watcher.start()
    time.sleep(0.3)
    sent_at: dict[str, float] = {}
    start = time.perf_counter()
    with Progress(console=console, disable=as_json, transient=True) as progress:
        task = progress.add_task("submitting", total=n_txs)
        retries, rejected = _submit_all(
            client, batches, sent_at, id_batches, progress, task, concurrency, window, watcher
        )
        wait_task = progress.add_task("committing", total=len(sent_at))
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and watcher.error is None:
            with watcher.lock:
                done = sum(1 for t in sent_at if t in watcher.committed)
            progress.update(wait_task, completed=done)
            if done == len(sent_at):
                break
            time.sleep(0.05)
    watcher.stop.set()
    if watcher.error is not None:
        raise GovchainError(f"lost the block stream: {watcher.error}")
    with watcher.lock:
        committed = {t: watcher.committed[t] for t in sent_at if t in watcher.committed}
        failed = len(watcher.failed & set(committed))
    end = max(committed.values(), default=start)
    latencies = sorted((committed[t] - sent_at[t]) * 1000 for t in committed)
    verify_rate = measure_verify_rate()
    valid = len(committed) - failed
    rate = valid / (end - start) if end > start else 0.0
    result = {
        "txs": n_txs,
        "batch": batch_size,
        "concurrency": concurrency,
        "window": window,
        "commits_per_s": round(rate, 1),
        "latency_ms": {
            "p50": _pct(latencies, 50),
            "p95": _pct(latencies, 95),
            "p99": _pct(latencies, 99),
        },
        "committed": len(committed),
        "rejected": len(rejected),
        "failed": failed,
        "lost": len(sent_at) - len(committed),
        "retries": retries,
        "elapsed_s": round(end - start, 3),
        "verify_per_s": round(verify_rate, 1),
        "ratio": round(rate / verify_rate, 4) if verify_rate else 0.0,
        "node_rss_mb": _node_rss_mb(client),
    }
    if rejected:
        result["first_rejection"] = rejected[0].get("error")
    if as_json:
        print_json(result)
    else:
        print_kv(
            "bench notarize",
            [(k, json.dumps(v) if isinstance(v, dict) else v) for k, v in result.items()],
        )


def _pct(values: list[float], p: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[p - 1], 1)


def _node_rss_mb(client: Client) -> float | None:
    try:
        text = httpx.get(client.url + "/metrics", timeout=5, auth=client.auth).text
    except httpx.HTTPError:
        return None
    for line in text.splitlines():
        if line.startswith("process_resident_memory_bytes"):
            return round(float(line.split()[1]) / 2**20, 1)
    return None


# --- a multi-node network ----------------------------------------------------------------------


class _FinalityWatcher(threading.Thread):
    """Polls a peer's committed and finalized heights (every 20 ms) and records when each
    height was first seen committed and final."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.seen_at: dict[str, list[tuple[int, float]]] = {"committed": [], "final": []}
        self.stop = threading.Event()

    def run(self) -> None:
        names = {"govchain_height": "committed", "govchain_finalized_height": "final"}
        last = dict.fromkeys(names.values(), -1)
        with httpx.Client(timeout=5) as http:
            while not self.stop.is_set():
                now = time.perf_counter()
                for metric, value in _metrics(http, self.url, names).items():
                    kind = names[metric]
                    if value > last[kind]:
                        last[kind] = value
                        self.seen_at[kind].append((value, now))
                time.sleep(0.02)

    def time_of(self, kind: str, height: int) -> float | None:
        return next((t for h, t in self.seen_at[kind] if h >= height), None)


def _metrics(http: httpx.Client, url: str, names: dict[str, str]) -> dict[str, int]:
    try:
        text = http.get(url + "/metrics").text
    except httpx.HTTPError:
        return {}
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in names:
            out[name] = int(float(value))
    return out


def _sign_for_peers(
    network_dir: Path, per_peer: int, progress: Progress
) -> tuple[list[str], list[list[bytes]], str]:
    """Peer URLs, and for each peer ``per_peer`` notarisations signed by its organisation."""
    from govchain.node.config import load_genesis, load_key, load_node_config

    genesis = load_genesis(network_dir)
    urls, raws = [], []
    status = httpx.get(_peer_url(network_dir, genesis.nodes[0].id) + "/v1/status").json()
    task = progress.add_task("signing", total=per_peer * len(genesis.nodes))
    run_tag = os.urandom(8)
    for n, node in enumerate(genesis.nodes):
        config = load_node_config(network_dir, node.id)
        urls.append(f"{config.scheme}://{config.host}:{config.port}")
        key = load_key(network_dir / "orgs" / node.org / "admin.key")
        own = []
        for i in range(per_peer):
            digest = hashlib.sha256(run_tag + bytes([n]) + i.to_bytes(8, "big")).digest()
            args = AnchorArgs(digest, f"bench document {n}/{i}", node.org)
            own.append(
                build_tx(
                    key,
                    chain_id=genesis.chain_id,
                    contract="notary",
                    method="anchor",
                    args=args,
                    valid_until=status["height"] + 590,
                )
            )
            progress.advance(task)
        raws.append(own)
    return urls, raws, genesis.nodes[0].org


def _peer_url(network_dir: Path, node_id: str) -> str:
    from govchain.node.config import load_node_config

    config = load_node_config(network_dir, node_id)
    return f"{config.scheme}://{config.host}:{config.port}"


def _submit_to_peers(
    urls: list[str],
    raws: list[list[bytes]],
    batch_size: int,
    window: int,
    watcher: _CommitWatcher,
    progress: Progress,
    rate: float = 0.0,
) -> tuple[dict[str, float], int]:
    """Each peer gets its own transactions, a batch at a time, in parallel, with at most
    ``window`` submitted and not yet committed across the network (0: no limit) and, with
    ``rate``, at most that many transactions per second across the network (each peer sends its
    share on a fixed schedule); the send time of every admitted transaction, and how many were
    refused."""
    sent_at: dict[str, float] = {}
    refused = 0
    lock = threading.Lock()
    task = progress.add_task("submitting", total=sum(len(r) for r in raws))
    per_peer_rate = rate / len(urls) if rate > 0 else 0.0
    began = time.perf_counter()

    def in_flight() -> int:
        with lock:
            sent = len(sent_at)
        with watcher.lock:
            return sent - len(watcher.committed)

    def run(peer: int) -> None:
        nonlocal refused
        with httpx.Client(base_url=urls[peer], timeout=120) as http:
            for i in range(0, len(raws[peer]), batch_size):
                batch = raws[peer][i : i + batch_size]
                if per_peer_rate:  # the batch is due once its first transaction is
                    delay = began + i / per_peer_rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                while window and in_flight() + len(batch) > window:
                    time.sleep(0.005)
                payload = {"txs": [base64.b64encode(r).decode() for r in batch]}
                t = time.perf_counter()
                resp = http.post("/v1/txs/batch", json=payload)
                while resp.status_code in (429, 503):
                    time.sleep(0.25)
                    resp = http.post("/v1/txs/batch", json=payload)
                resp.raise_for_status()
                with lock:
                    for item in resp.json()["results"]:
                        if item["status"] == "pending":
                            sent_at[item["tx_id"]] = t
                        else:
                            refused += 1
                    progress.advance(task, len(batch))

    with ThreadPoolExecutor(len(urls)) as pool:
        list(pool.map(run, range(len(urls))))
    return sent_at, refused


@bench.command("network")
@click.option(
    "--dir",
    "network_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="The network directory (`govchain network up --dir DIR`).",
)
@click.option(
    "--txs",
    "n_txs",
    default=20_000,
    show_default=True,
    help="Transactions in all, split evenly over the peers.",
)
@click.option(
    "--batch",
    "batch_size",
    type=int,
    default=None,
    help="Transactions per HTTP request [default: 250; with --rate, 10 requests a second to "
    "each peer].",
)
@click.option(
    "--window",
    default=4000,
    show_default=True,
    help="At most this many submitted, not yet committed transactions (0: no limit).",
)
@click.option(
    "--rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Offer at most this many transactions per second across the network (0: as fast as "
    "the window allows), to show the latency at a given throughput.",
)
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for commits.")
@json_option
def bench_network(
    network_dir: Path,
    n_txs: int,
    batch_size: int | None,
    window: int,
    rate: float,
    timeout: float,
    as_json: bool,
) -> None:
    """Load every peer of a multi-node network at once; report committed transactions per second
    across the network and commit and finality latency percentiles (seen from the first peer).

    \b
    Example:
      govchain network up --orgs 4 --dir city
      govchain bench network --dir city --txs 20000
      govchain bench network --dir city --txs 16000 --rate 800   # latency at 800 tx/s
    """
    n_peers = len(_node_urls(network_dir))
    if batch_size is None:
        batch_size = max(1, min(250, round(rate / n_peers / 10))) if rate > 0 else 250
    with Progress(console=console, disable=as_json, transient=True) as progress:
        urls, raws, org = _sign_for_peers(network_dir, n_txs // n_peers, progress)
        key = _org_key(network_dir, org)
        client = Client(urls[0], key=key)
        watcher = _CommitWatcher(client, client.status()["height"] + 1)
        finality = _FinalityWatcher(urls[0])
        watcher.start()
        finality.start()
        start = time.perf_counter()
        sent_at, refused = _submit_to_peers(urls, raws, batch_size, window, watcher, progress, rate)
        submitted = time.perf_counter()
        task = progress.add_task("committing", total=len(sent_at))
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and watcher.error is None:
            with watcher.lock:
                done = sum(1 for t in sent_at if t in watcher.committed)
            progress.update(task, completed=done)
            if done == len(sent_at):
                break
            time.sleep(0.05)
        top = max(watcher.heights.values(), default=0)
        while time.perf_counter() < deadline and finality.time_of("final", top) is None:
            time.sleep(0.05)
    watcher.stop.set()
    finality.stop.set()
    result = _network_result(watcher, finality, sent_at, start, refused, urls)
    result["offered_per_s"] = round(len(sent_at) / (submitted - start), 1)
    result["sustained_commits_per_s"] = _sustained_rate(watcher, sent_at, start, submitted)
    result["rate"] = rate or None
    result["batch"] = batch_size
    result["window"] = window
    if as_json:
        print_json(result)
    else:
        print_kv(
            "bench network",
            [(k, json.dumps(v) if isinstance(v, dict) else v) for k, v in result.items()],
        )


def _sustained_rate(
    watcher: _CommitWatcher, sent_at: dict[str, float], start: float, submitted: float
) -> float:
    """Commits per second seen in the middle 80% of the submission period: the steady state,
    without the ramp at the start and the last blocks after submissions stopped."""
    span = submitted - start
    low, high = start + 0.1 * span, start + 0.9 * span
    with watcher.lock:
        n = sum(1 for t in sent_at if low <= watcher.committed.get(t, -1.0) < high)
    return round(n / (high - low), 1) if high > low else 0.0


def _node_urls(network_dir: Path) -> list[str]:
    from govchain.node.config import load_genesis

    return [_peer_url(network_dir, n.id) for n in load_genesis(network_dir).nodes]


def _org_key(network_dir: Path, org: str) -> Any:
    from govchain.node.config import load_key

    return load_key(network_dir / "orgs" / org / "admin.key")


def _network_result(
    watcher: _CommitWatcher,
    finality: _FinalityWatcher,
    sent_at: dict[str, float],
    start: float,
    refused: int,
    urls: list[str],
) -> dict[str, Any]:
    with watcher.lock:
        committed = {t: watcher.committed[t] for t in sent_at if t in watcher.committed}
        heights = {t: watcher.heights[t] for t in committed}
    # commit: when the first peer's event stream delivered the block; finality: when the first
    # peer's finalized height (polled) first reached it, and never before the commit was seen
    commit_ms = sorted((seen - sent_at[t]) * 1000 for t, seen in committed.items())
    final_ms = sorted(
        (max(seen, committed[t]) - sent_at[t]) * 1000
        for t in committed
        if (seen := finality.time_of("final", heights[t])) is not None
    )
    end = max(committed.values(), default=start)
    tips = set()
    for url in urls:
        s = httpx.get(url + "/v1/status", timeout=10).json()
        tips.add((s["height"], s["state_root"]))
    return {
        "peers": len(urls),
        "txs": len(sent_at) + refused,
        "commits_per_s": round(len(committed) / (end - start), 1) if end > start else 0.0,
        "commit_latency_ms": {
            p: _pct(commit_ms, n) for p, n in (("p50", 50), ("p95", 95), ("p99", 99))
        },
        "finality_latency_ms": {
            p: _pct(final_ms, n) for p, n in (("p50", 50), ("p95", 95), ("p99", 99))
        },
        "committed": len(committed),
        "finalized": len(final_ms),
        "refused": refused,
        "lost": len(sent_at) - len(committed),
        "blocks": len(set(heights.values())),
        "elapsed_s": round(end - start, 3),
        "peer_tips": len(tips),
    }

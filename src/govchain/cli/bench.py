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
    """Benchmarks against a running node."""


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

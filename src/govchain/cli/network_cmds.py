"""`govchain network`: Run a multi-node network on etcd: up, status, down, and one peer."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import httpx
from prometheus_client.parser import text_string_to_metric_families
from rich.progress import Progress, SpinnerColumn, TextColumn

from govchain.cli.common import dir_option, json_option
from govchain.cli.output import console, fail, print_json, print_table
from govchain.errors import ConfigError, GovchainError
from govchain.node.config import NodeConfig, load_genesis, load_node_config
from govchain.node.launcher import (
    EtcdCluster,
    EtcdMember,
    ProcessStartFailed,
    etcd_command,
    find_etcd,
    is_running,
    load_cluster,
    peer_command,
    pid_path,
    read_pid,
    save_cluster,
    spawn,
    stop_pid,
)

__all__ = ["network"]

START_TIMEOUT_S = 60.0


@click.group()
def network() -> None:
    """Run a multi-node network on etcd: up, status, down, and one peer.

    \b
    A local network for trying things out or testing:
      govchain network up --orgs 4 --dir city        etcd (3 members) and 4 peers
      govchain network status --dir city             health, heights, finality
      govchain network down --dir city               stop everything it started
    One organisation's peer on its own machine, against a remote etcd cluster:
      govchain node start --dir city --node node2    (see docs/multi-node.md)
    """


# --- up ------------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ports(first: int, count: int, step: int = 1) -> list[int]:
    return (
        [_free_port() for _ in range(count)]
        if first == 0
        else [first + step * i for i in range(count)]
    )


def _create(
    network_dir: Path, orgs: int, etcd_members: int, api_port: int, etcd_port: int, chain_id: str
) -> None:
    from govchain.node.network import init_peer_network

    client_ports = _ports(etcd_port, etcd_members, 2)
    peer_ports = (
        [_free_port() for _ in client_ports] if etcd_port == 0 else [p + 1 for p in client_ports]
    )
    members = [
        EtcdMember(f"etcd{i}", c, p)
        for i, (c, p) in enumerate(zip(client_ports, peer_ports, strict=True))
    ]
    cluster = EtcdCluster(f"{chain_id}-etcd", members)
    init_peer_network(
        network_dir,
        orgs=orgs,
        ports=_ports(api_port, orgs),
        etcd_endpoints=cluster.endpoints,
        chain_id=chain_id,
    )
    save_cluster(network_dir, cluster)


def _wait(what: str, check: Callable[[], bool], progress: Progress) -> None:
    task = progress.add_task(what)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not check():
        if time.monotonic() > deadline:
            raise ProcessStartFailed(f"timed out waiting for {what}")
        time.sleep(0.1)
    progress.update(task, description=f"[green]✓[/] {what}")


def _start_etcd(network_dir: Path, cluster: EtcdCluster, progress: Progress) -> None:
    for m in cluster.members:
        pid_file = pid_path(network_dir, m.name)
        pid = read_pid(pid_file)
        if pid is not None and is_running(pid):
            continue
        command = etcd_command(m, cluster, network_dir / "etcd" / m.name)
        spawn(command, network_dir / "logs" / f"{m.name}.log", pid_file)
    _wait(
        f"etcd cluster of {len(cluster.members)} members elects a leader",
        lambda: any(_member_status(m.client_url).get("is_leader") for m in cluster.members),
        progress,
    )


def _node_ids(network_dir: Path) -> list[str]:
    return [n.id for n in load_genesis(network_dir).nodes]


def _start_peers(network_dir: Path, progress: Progress) -> None:
    for node_id in _node_ids(network_dir):
        pid_file = pid_path(network_dir, node_id)
        pid = read_pid(pid_file)
        if pid is None or not is_running(pid):
            spawn(
                peer_command(network_dir, node_id),
                network_dir / "logs" / f"{node_id}.log",
                pid_file,
            )
    for node_id in _node_ids(network_dir):
        config = load_node_config(network_dir, node_id)
        log_file = network_dir / "logs" / f"{node_id}.log"

        def ready(
            config: NodeConfig = config, node_id: str = node_id, log_file: Path = log_file
        ) -> bool:
            pid = read_pid(pid_path(network_dir, node_id))
            if pid is None or not is_running(pid):
                raise ProcessStartFailed(f"peer {node_id} exited; see {log_file}")
            return _get_json(_url(config) + "/v1/status") is not None

        _wait(f"peer {node_id} answers on {_url(config)}", ready, progress)


@network.command("up")
@dir_option()
@click.option(
    "--orgs",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Founding organisations; each runs one peer (new networks only).",
)
@click.option(
    "--etcd-members",
    type=click.IntRange(1, 7),
    default=3,
    show_default=True,
    help="etcd members (new networks only); an odd number, 3 tolerates one failure.",
)
@click.option(
    "--api-port",
    type=int,
    default=8701,
    show_default=True,
    help="API port of the first peer, the others follow; 0 picks free ports.",
)
@click.option(
    "--etcd-port",
    type=int,
    default=23790,
    show_default=True,
    help="Client port of the first etcd member (peer port = client port + 1, members "
    "two apart); 0 picks free ports.",
)
@click.option("--chain-id", default="govchain-local", show_default=True)
@json_option
def network_up(
    network_dir: Path,
    orgs: int,
    etcd_members: int,
    api_port: int,
    etcd_port: int,
    chain_id: str,
    as_json: bool,
) -> None:
    """Start a local network: an etcd cluster and one peer per organisation.

    Creates the network in DIR on first use (genesis with every organisation's node key, node
    configs naming the etcd cluster); later runs start whatever of it is not running. Logs go to
    DIR/logs/, pid files to DIR/run/.

    \b
    Examples:
      govchain network up --orgs 4 --dir city
      govchain network up --dir city --api-port 0 --etcd-port 0   free ports
    """
    try:
        find_etcd()
        if not (network_dir / "genesis.json").exists():
            _create(network_dir, orgs, etcd_members, api_port, etcd_port, chain_id)
        cluster = load_cluster(network_dir)
        if cluster is None:
            raise ConfigError(
                f"{network_dir} has no local etcd cluster (etcd/cluster.json)",
                hint="It was not made by `govchain network up`: start its peers with "
                "`govchain node start --dir DIR --node ID` against your etcd cluster.",
            )
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=as_json
        ) as progress:
            _start_etcd(network_dir, cluster, progress)
            _start_peers(network_dir, progress)
    except GovchainError as exc:
        fail(exc, as_json)
    _show_status(network_dir, as_json)
    if not as_json:
        console.print(
            f"Next: [bold]govchain network status --dir {network_dir}[/], "
            f"[bold]govchain network down --dir {network_dir}[/]"
        )


# --- status --------------------------------------------------------------------------------


def _get_json(url: str) -> dict[str, Any] | None:
    try:
        r = httpx.get(url, timeout=3)
        return r.json() if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def _member_status(endpoint: str) -> dict[str, Any]:
    try:
        r = httpx.post(endpoint + "/v3/maintenance/status", json={}, timeout=3)
        s = r.json()
    except (httpx.HTTPError, ValueError):
        return {"endpoint": endpoint, "healthy": False}
    member = s.get("header", {}).get("member_id")
    return {
        "endpoint": endpoint,
        "healthy": r.status_code == 200 and not s.get("errors"),
        "is_leader": member is not None and s.get("leader") == member,
        "version": s.get("version"),
        "db_size": int(s.get("dbSize", 0)),
        "raft_term": int(s.get("raftTerm", 0)),
    }


def _peer_metrics(url: str) -> dict[str, float]:
    try:
        text = httpx.get(url + "/metrics", timeout=3).text
    except httpx.HTTPError:
        return {}
    wanted = {"govchain_finalized_height", "govchain_divergence_height"}
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name in wanted
    }


def _url(config: NodeConfig) -> str:
    return f"{config.scheme}://{config.host}:{config.port}"


def _peer_status(network_dir: Path, node_id: str) -> dict[str, Any]:
    config = load_node_config(network_dir, node_id)
    url = _url(config)
    status = _get_json(url + "/v1/status")
    if status is None:
        return {"node_id": node_id, "url": url, "up": False}
    metrics = _peer_metrics(url)
    divergence = int(metrics.get("govchain_divergence_height", -1))
    return {
        "node_id": node_id,
        "url": url,
        "up": True,
        "height": status["height"],
        "state_root": status["state_root"],
        "block_hash": status["block_hash"],
        "finalized_height": int(metrics.get("govchain_finalized_height", -1)),
        "divergence_height": None if divergence < 0 else divergence,
    }


def _endpoints(network_dir: Path) -> list[str]:
    cluster = load_cluster(network_dir)
    if cluster is not None:
        return cluster.endpoints
    for node_id in _node_ids(network_dir):
        etcd = load_node_config(network_dir, node_id).etcd
        if etcd is not None:
            return etcd.endpoints
    return []


def _collect_status(network_dir: Path) -> dict[str, Any]:
    members = [_member_status(e) for e in _endpoints(network_dir)]
    peers = [_peer_status(network_dir, n) for n in _node_ids(network_dir)]
    up = [p for p in peers if p["up"]]
    tips = {(p["height"], p["state_root"]) for p in up}
    return {
        "chain_id": load_genesis(network_dir).chain_id,
        "etcd": members,
        "peers": peers,
        "converged": len(tips) == 1 and len(up) == len(peers),
        "diverged": [p["node_id"] for p in up if p["divergence_height"] is not None],
    }


def _show_status(network_dir: Path, as_json: bool) -> dict[str, Any]:
    s = _collect_status(network_dir)
    if as_json:
        print_json(s)
        return s
    print_table(
        f"etcd cluster of {s['chain_id']}",
        ["endpoint", "health", "leader", "version", "db size", "term"],
        [
            (
                m["endpoint"],
                "[green]healthy[/]" if m["healthy"] else "[red]down[/]",
                "★" if m.get("is_leader") else "",
                m.get("version"),
                m.get("db_size"),
                m.get("raft_term"),
            )
            for m in s["etcd"]
        ],
    )
    print_table(
        "peers",
        ["node", "url", "state", "height", "finalized", "state root", "divergence"],
        [
            (
                p["node_id"],
                p["url"],
                "[green]up[/]" if p["up"] else "[red]down[/]",
                p.get("height"),
                p.get("finalized_height"),
                (p.get("state_root") or "")[:16],
                f"[bold red]at {p['divergence_height']}[/]"
                if p.get("divergence_height") is not None
                else "",
            )
            for p in s["peers"]
        ],
    )
    for node_id in s["diverged"]:
        console.print(
            f"[bold red]peer {node_id} diverged from the quorum and refuses writes[/]: "
            "stop it and rebuild its ledger from the other peers (docs/multi-node.md)."
        )
    return s


@network.command("status")
@dir_option()
@json_option
def network_status(network_dir: Path, as_json: bool) -> None:
    """Show every etcd member (health, leader) and every peer (height, state root, finalized
    height, divergence).

    \b
    Examples:
      govchain network status --dir city
      govchain network status --dir city --json
    """
    try:
        _show_status(network_dir, as_json)
    except GovchainError as exc:
        fail(exc, as_json)


# --- down ----------------------------------------------------------------------------------


@network.command("down")
@dir_option()
@json_option
def network_down(network_dir: Path, as_json: bool) -> None:
    """Stop every process `network up` started in DIR: peers first, then etcd (SIGTERM, then
    SIGKILL after 15 s). Ledgers and etcd data stay: `network up` resumes them.

    \b
    Example:
      govchain network down --dir city
    """
    try:
        names = _node_ids(network_dir)
        cluster = load_cluster(network_dir)
        names += [m.name for m in cluster.members] if cluster else []
    except GovchainError as exc:
        fail(exc, as_json)
    stopped: dict[str, str] = {}
    for name in names:
        pid_file = pid_path(network_dir, name)
        pid = read_pid(pid_file)
        if pid is None:
            continue
        if not is_running(pid):
            stopped[name] = "was not running"
        else:
            stopped[name] = "killed" if stop_pid(pid) else "stopped"
        pid_file.unlink(missing_ok=True)
    if as_json:
        print_json({"stopped": stopped})
    elif not stopped:
        console.print(f"nothing of {network_dir} was running")
    else:
        print_table("stopped", ["process", "how"], sorted(stopped.items()))

"""`govchain network`: Run a multi-node network on etcd: up, status, down, and one peer."""

from __future__ import annotations

import ssl
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
from govchain.node.join import (
    NewPeer,
    get_node_ids,
    get_peer_url,
    next_node_id,
    prepare_peer,
    save_peer,
)
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
CATCH_UP_TIMEOUT_S = 900.0  # a new peer answers once it caught up from the other peers


@click.group()
def network() -> None:
    """Run a multi-node network on etcd: up, status, down, and one peer.

    \b
    A local network for trying things out or testing:
      govchain network up --orgs 4 --dir city        etcd (3 members) and 4 peers
      govchain network status --dir city             health, heights, finality
      govchain network down --dir city               stop everything it started
    A new organisation's peer, added by a governance vote:
      govchain network add-peer --dir city --org culture     key, config, add_node proposal
      govchain network start-peer --dir city --node node4    once the proposal is enacted
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
    network_dir: Path,
    orgs: int,
    etcd_members: int,
    api_port: int,
    etcd_port: int,
    chain_id: str,
    tls: bool,
) -> None:
    from govchain.node.network import init_peer_network
    from govchain.node.pki import init_network_pki

    client_ports = _ports(etcd_port, etcd_members, 2)
    peer_ports = (
        [_free_port() for _ in client_ports] if etcd_port == 0 else [p + 1 for p in client_ports]
    )
    members = [
        EtcdMember(f"etcd{i}", c, p, tls=tls)
        for i, (c, p) in enumerate(zip(client_ports, peer_ports, strict=True))
    ]
    cluster = EtcdCluster(f"{chain_id}-etcd", members)
    init_peer_network(
        network_dir,
        orgs=orgs,
        ports=_ports(api_port, orgs),
        etcd_endpoints=cluster.endpoints,
        chain_id=chain_id,
        tls=tls,
    )
    if tls:
        init_network_pki(network_dir, [m.name for m in members], [f"node{i}" for i in range(orgs)])
    save_cluster(network_dir, cluster)


def _wait(
    what: str, check: Callable[[], bool], progress: Progress, timeout: float = START_TIMEOUT_S
) -> None:
    task = progress.add_task(what)
    deadline = time.monotonic() + timeout
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
        command = etcd_command(m, cluster, network_dir / "etcd" / m.name, network_dir)
        spawn(command, network_dir / "logs" / f"{m.name}.log", pid_file)
    verify = _http_tls(network_dir)
    _wait(
        f"etcd cluster of {len(cluster.members)} members elects a leader",
        lambda: any(_member_status(m.client_url, verify).get("is_leader") for m in cluster.members),
        progress,
    )


def _node_ids(network_dir: Path) -> list[str]:
    """The founding peers, then the peers that joined later (`network add-peer`)."""
    return get_node_ids(network_dir)


def _spawn_peer(network_dir: Path, node_id: str) -> None:
    pid_file = pid_path(network_dir, node_id)
    pid = read_pid(pid_file)
    if pid is None or not is_running(pid):
        spawn(peer_command(network_dir, node_id), network_dir / "logs" / f"{node_id}.log", pid_file)


def _wait_peer(
    network_dir: Path, node_id: str, progress: Progress, timeout: float = START_TIMEOUT_S
) -> None:
    config = load_node_config(network_dir, node_id)
    log_file = network_dir / "logs" / f"{node_id}.log"
    verify = _http_tls(network_dir)

    def ready() -> bool:
        pid = read_pid(pid_path(network_dir, node_id))
        if pid is None or not is_running(pid):
            raise ProcessStartFailed(f"peer {node_id} exited; see {log_file}")
        return _get_json(_url(config) + "/v1/status", verify) is not None

    _wait(f"peer {node_id} answers on {_url(config)}", ready, progress, timeout)


def _start_peers(network_dir: Path, progress: Progress) -> None:
    for node_id in _node_ids(network_dir):
        _spawn_peer(network_dir, node_id)
    for node_id in _node_ids(network_dir):
        _wait_peer(network_dir, node_id, progress)


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
@click.option(
    "--tls",
    is_flag=True,
    help="New networks: a local CA (DIR/tls/ca.pem) and certificates; etcd demands client "
    "certificates, peers serve HTTPS and authenticate to etcd and to each other.",
)
@json_option
def network_up(
    network_dir: Path,
    orgs: int,
    etcd_members: int,
    api_port: int,
    etcd_port: int,
    chain_id: str,
    tls: bool,
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
      govchain network up --dir city --tls     (clients: SSL_CERT_FILE=city/tls/ca.pem)
    """
    try:
        find_etcd()
        if not (network_dir / "genesis.json").exists():
            _create(network_dir, orgs, etcd_members, api_port, etcd_port, chain_id, tls)
        elif tls and _http_tls(network_dir) is True:
            raise ConfigError(
                f"{network_dir} holds a network without TLS; --tls makes new networks only",
                hint="Give a new --dir to make a network over TLS, or leave --tls out.",
            )
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


def _http_tls(network_dir: Path) -> ssl.SSLContext | bool:
    """How the CLI reaches the network's peers and etcd members: as its first peer does (with
    ``--tls``: trusting the network's CA and showing that peer's certificate, which etcd
    demands); else the default trust store."""
    from govchain.node.config import node_dir
    from govchain.node.sync import get_peer_tls

    first = _node_ids(network_dir)[0]
    return get_peer_tls(load_node_config(network_dir, first).tls, node_dir(network_dir, first))


def _get_json(url: str, verify: ssl.SSLContext | bool = True) -> dict[str, Any] | None:
    try:
        r = httpx.get(url, timeout=3, verify=verify)
        return r.json() if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def _member_status(endpoint: str, verify: ssl.SSLContext | bool = True) -> dict[str, Any]:
    try:
        r = httpx.post(endpoint + "/v3/maintenance/status", json={}, timeout=3, verify=verify)
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


def _peer_metrics(url: str, verify: ssl.SSLContext | bool) -> dict[str, float]:
    try:
        text = httpx.get(url + "/metrics", timeout=3, verify=verify).text
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
    return get_peer_url(config)


def _peer_status(network_dir: Path, node_id: str, verify: ssl.SSLContext | bool) -> dict[str, Any]:
    config = load_node_config(network_dir, node_id)
    url = _url(config)
    status = _get_json(url + "/v1/status", verify)
    if status is None:
        return {"node_id": node_id, "url": url, "up": False}
    metrics = _peer_metrics(url, verify)
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
    verify = _http_tls(network_dir)
    members = [_member_status(e, verify) for e in _endpoints(network_dir)]
    peers = [_peer_status(network_dir, n, verify) for n in _node_ids(network_dir)]
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


# --- a new organisation's peer -------------------------------------------------------------


def _founding_url(network_dir: Path) -> str:
    """The URL of the first founding peer that answers."""
    urls = [_url(load_node_config(network_dir, n.id)) for n in load_genesis(network_dir).nodes]
    verify = _http_tls(network_dir)
    for url in urls:
        if _get_json(url + "/v1/status", verify) is not None:
            return url
    raise ConfigError(
        f"no founding peer of {network_dir} answers ({', '.join(urls)})",
        hint=f"Start the network first: `govchain network up --dir {network_dir}`.",
    )


def _propose_node(network_dir: Path, peer: NewPeer, node_url: str, key_file: Path | None) -> Any:
    from govchain.cli.common import load_signing_key
    from govchain.client import Client
    from govchain.contracts.governance import ProposeArgs
    from govchain.contracts.governance_actions import AddNode

    key = load_signing_key(key_file, network_dir, peer.org)
    action = AddNode(peer.org, peer.node_id, peer.key.public_key)
    args = ProposeArgs(action, f"add node {peer.org}:{peer.node_id}", "", None, None)
    with Client(node_url, key=key, timeout=60, verify=_http_tls(network_dir)) as client:
        return client.send(key, "governance", "propose", args, timeout=60).result


def _founders_vote(network_dir: Path, proposal: dict[str, Any], node_url: str) -> dict[str, Any]:
    """The founding organisations' admins (keys in the directory) approve until it passes."""
    from govchain.client import Client
    from govchain.contracts.governance import VoteArgs
    from govchain.node.config import load_key

    voted = {v["org"] for v in proposal["votes"]}
    for org in load_genesis(network_dir).orgs:
        if proposal["status"] != "open":
            break
        if org.id in voted:
            continue
        key = load_key(network_dir / "orgs" / org.id / "admin.key")
        with Client(node_url, key=key, timeout=60, verify=_http_tls(network_dir)) as client:
            vote = VoteArgs(proposal["id"], True)
            proposal = client.send(key, "governance", "vote", vote, timeout=60).result
    return proposal


def _next_steps(network_dir: Path, proposal: dict[str, Any], node_id: str) -> list[str]:
    voted = {v["org"] for v in proposal["votes"]}
    steps = []
    if proposal["status"] == "open":
        steps += [
            f"govchain gov vote {proposal['id']} --yes --dir {network_dir} --org {o.id}"
            for o in load_genesis(network_dir).orgs
            if o.id not in voted
        ]
    return [*steps, f"govchain network start-peer --dir {network_dir} --node {node_id}"]


@network.command("add-peer")
@dir_option()
@click.option("--org", required=True, help="The organisation that runs the peer (on chain).")
@click.option("--node-id", default=None, help="The peer's id (default: the next free nodeN).")
@click.option("--api-port", type=int, default=0, show_default=True, help="0 picks a free port.")
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The org admin's key that signs the proposal (default: DIR/orgs/ORG/admin.key).",
)
@click.option("--node", "node_url", default=None, help="A peer to submit to (default: a founder).")
@click.option("--vote", is_flag=True, help="Local networks: the founders' admins approve too.")
@json_option
def network_add_peer(
    network_dir: Path,
    org: str,
    node_id: str | None,
    api_port: int,
    key_file: Path | None,
    node_url: str | None,
    vote: bool,
    as_json: bool,
) -> None:
    """Prepare a new peer of an organisation already on chain and propose adding its node.

    Writes DIR/nodes/ID/ (a new node key and a config naming the network's etcd cluster and
    the other peers) and proposes the governance action add_node, signed by the organisation's
    admin. The founding organisations vote on it (a majority by default); once it is enacted,
    start the peer with `govchain network start-peer`. A new organisation is added first with
    `govchain gov propose add-org` (see docs/multi-node.md).

    \b
    Examples:
      govchain network add-peer --dir city --org culture
      govchain network add-peer --dir city --org culture --vote      local network: approve too
    """
    try:
        peer = prepare_peer(
            network_dir, org, node_id or next_node_id(network_dir), api_port or _free_port()
        )
        url = node_url or _founding_url(network_dir)
        proposal = _propose_node(network_dir, peer, url, key_file)
        save_peer(network_dir, peer)
        if vote:
            proposal = _founders_vote(network_dir, proposal, url)
    except GovchainError as exc:
        fail(exc, as_json)
    steps = _next_steps(network_dir, proposal, peer.node_id)
    if as_json:
        print_json(
            {
                "node_id": peer.node_id,
                "identity": f"{org}:{peer.node_id}",
                "public_key": peer.key.public_key.hex(),
                "url": _url(peer.config),
                "proposal": proposal,
                "next": steps,
            }
        )
        return
    console.print(
        f"[green]peer {peer.node_id}[/] of {org} prepared in "
        f"{network_dir / 'nodes' / peer.node_id} ({_url(peer.config)}); proposal "
        f"{proposal['id']} (add_node {org}:{peer.node_id}) is [bold]{proposal['status']}[/]"
        + (
            f", takes effect at height {proposal['enact_height']}"
            if proposal["enact_height"]
            else ""
        )
    )
    if proposal["status"] == "open":
        console.print("The founding organisations vote (a majority of them by default):")
    for step in steps:
        console.print(f"  {step}")


@network.command("start-peer")
@dir_option()
@click.option("--node", "node_id", required=True, help="The peer's id (DIR/nodes/ID/).")
@json_option
def network_start_peer(network_dir: Path, node_id: str, as_json: bool) -> None:
    """Start one peer of the local network (e.g. one `add-peer` prepared) in the background;
    `network status` and `network down` include it. A new peer first catches up from the other
    peers' block stores, verifying every block, then follows the ordering log.

    \b
    Example:
      govchain network start-peer --dir city --node node4
    """
    try:
        if node_id not in _node_ids(network_dir):
            raise ConfigError(
                f"{network_dir} has no peer {node_id!r}",
                hint="`govchain network add-peer --dir DIR --org ORG` prepares one.",
            )
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=as_json
        ) as progress:
            _spawn_peer(network_dir, node_id)
            _wait_peer(network_dir, node_id, progress, CATCH_UP_TIMEOUT_S)
    except GovchainError as exc:
        fail(exc, as_json)
    status = _peer_status(network_dir, node_id, _http_tls(network_dir))
    if as_json:
        print_json(status)
        return
    console.print(
        f"[green]peer {node_id}[/] answers on {status['url']} at height {status.get('height')}"
    )

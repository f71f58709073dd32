"""Granted, encrypted, receipted data requests through a gateway pair, receipts anchored.

Run: .venv/bin/python bench/gateway_bench.py [REQUESTS] [THREADS]   (defaults 4000 and 8)

Starts a real node and two departments' gateways (``market-regulation`` and ``tax``, each with
its SQLite database; see tests/integration/gateway_world.py), grants each department one
enterprise's record of the other's resource, then both departments fetch at once: REQUESTS in
all, from THREADS client threads. Every request is the full exchange of ``govchain share fetch``:
sign the request, the owner gateway checks the grant on chain (state proofs, cached while no
block comes), reads the database, seals the fields to the requester's key, signs and journals the
receipt (SQLite, synchronous=FULL); the requester checks the receipt and the owner's key,
opens the envelope and counter-signs the receipt; counter-signed receipts go back in batches
of 20. The clock stops when the last answer
is in; then the gateways anchor the rest and the receipts are counted on chain (each grant's
``uses`` and its audit trail).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from govchain.client.audit import AuditClient  # noqa: E402
from govchain.client.gateway import GatewayClient, read_grant  # noqa: E402
from integration.gateway_world import MARKET, TAX, ExchangeWorld  # noqa: E402
from integration.nodeproc import NodeProcess, init_network  # noqa: E402

BATCH = 20  # counter-signed receipts returned per request (threads x BATCH < max_outstanding)
FIELDS = {MARKET: ["name", "status", "registered_capital"], TAX: ["tax_status", "arrears"]}


def _worker(
    world: ExchangeWorld,
    requester: str,
    owner: str,
    grant_id: str,
    subject: str,
    count: int,
    errors: list[str],
) -> None:
    gateway = world.departments[owner].gateway
    assert gateway is not None
    key = world.departments[requester].admin
    with (
        world.client(key) as node,
        GatewayClient(gateway.url, key=key, node=node, countersign_batch=BATCH) as gw,
    ):
        for _ in range(count):
            try:
                gw.fetch(
                    grant_id,
                    resource_id=world.departments[owner].resource_id,
                    subject=subject,
                    fields=FIELDS[owner],
                    requester=requester,
                    owner=owner,
                )
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(exc).__name__}: {exc}")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_by_role(world: ExchangeWorld) -> dict[str, float]:
    assert world.node.process is not None
    gateways = [d.gateway.process for d in world.departments.values() if d.gateway]
    return {
        "node": _cpu_s(world.node.process.pid),
        "gateways": sum(_cpu_s(p.pid) for p in gateways if p is not None),
        "clients": _cpu_s(os.getpid()),
    }


def _anchored(world: ExchangeWorld, owner: str, grant_id: str, timeout: float = 120.0) -> int:
    """Wait until the owner's gateway has anchored every counter-signed receipt; the grant's
    uses on chain (proven)."""
    gateway = world.departments[owner].gateway
    assert gateway is not None
    gateway.wait_for(lambda h: h["receipts"]["countersigned"] == 0, timeout)
    grant = read_grant(world.client(world.departments[owner].admin), grant_id).grant
    assert grant is not None
    return grant.uses


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    base = Path(tempfile.mkdtemp(prefix="govchain-gwbench-"))
    node = NodeProcess(init_network(base / "net"), base / "node.log")
    world: ExchangeWorld | None = None
    try:
        node.start()
        world = ExchangeWorld(node, base / "gateways")
        subject = world.register_enterprise(1)
        for org in (MARKET, TAX):
            world.add_department(org, f"sqlite:///{base / org}.db", flush_ms=500)
        world.start()
        grants = {
            (TAX, MARKET): world.grant(TAX, MARKET, subject, FIELDS[MARKET], max_uses=total),
            (MARKET, TAX): world.grant(MARKET, TAX, subject, FIELDS[TAX], max_uses=total),
        }
        per_thread = total // threads
        errors: list[str] = []
        pairs = list(grants.items())
        cpu_before = _cpu_by_role(world)
        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            for i in range(threads):
                (requester, owner), grant_id = pairs[i % 2]
                pool.submit(_worker, world, requester, owner, grant_id, subject, per_thread, errors)
        seconds = time.perf_counter() - start
        cpu = {k: v - cpu_before[k] for k, v in _cpu_by_role(world).items()}
        done = per_thread * threads - len(errors)
        uses = sum(_anchored(world, owner, g) for (_, owner), g in grants.items())
        audit = AuditClient(world.client(world.departments[MARKET].admin))
        audited = len(audit.access(grant=grants[(TAX, MARKET)], verify=False).records)
        print(f"machine: {os.cpu_count()} cores; {threads} client threads")
        print(
            f"gateway exchange: {done} requests in {seconds:.2f} s = {done / seconds:,.0f}/s "
            f"({len(errors)} errors{': ' + errors[0] if errors else ''})"
        )
        per_request = {k: 1000 * v / max(done, 1) for k, v in cpu.items()}
        print(
            "CPU per request: "
            + ", ".join(f"{k} {v:.2f} ms" for k, v in per_request.items())
            + f"; total {sum(per_request.values()):.2f} ms"
            + f" (capacity of {os.cpu_count()} free cores: "
            + f"{1000 * (os.cpu_count() or 1) / sum(per_request.values()):,.0f}/s)"
        )
        for dept in world.departments.values():
            if dept.gateway is not None:
                for line in dept.gateway.log().splitlines():
                    if "ERROR" in line or "WARNING" in line:
                        print(f"{dept.org} gateway: {line}")
        print(f"receipts anchored on chain: {uses} (grant uses); market's audit trail: {audited}")
    finally:
        if world is not None:
            world.stop()
        node.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

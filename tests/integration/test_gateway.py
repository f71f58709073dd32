"""Data gateways end to end: two departments, each owning data (PostgreSQL on one side, configured
by a file; SQLite on the other, configured by options) and requesting the other's, over real node
and gateway processes.

Grant on chain, signed fetch, sealed answer, counter-signed receipt, receipts anchored and
visible in the audit trail; every refusal with its own code; and the data values never reach the
chain or any log."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from govchain.client.audit import AuditClient
from govchain.client.auth import sign_request
from govchain.client.gateway import GatewayClient, read_grant
from govchain.errors import ContractError, GovchainError
from govchain.gateway.protocol import (
    FETCH_PATH,
    FetchRequest,
    countersign_receipt,
    decode_receipt,
)
from govchain.gateway.sample import sample_row
from govchain.node.config import save_key

from .conftest import NodeFactory
from .gateway_world import MARKET, TAX, Department, ExchangeWorld
from .nodeproc import run_cli
from .pgserver import PostgresServer, postgres  # noqa: F401 - the PostgreSQL fixture

ENTERPRISE_FIELDS = ["name", "status", "registered_capital"]
TAX_FIELDS = ["tax_status", "arrears"]


@pytest.fixture(scope="module")
def world(
    module_node_factory: NodeFactory,
    postgres: PostgresServer,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ExchangeWorld]:
    node = module_node_factory()
    w = ExchangeWorld(node, tmp_path_factory.mktemp("gateways"))
    for n in range(1, 4):
        w.register_enterprise(n)
    try:
        w.add_department(MARKET, postgres.create_database("market"), flush_ms=100)
        w.add_department(TAX, f"sqlite:///{w.base / 'tax.db'}", flags=True, flush_ms=100)
        w.start()
        yield w
    finally:
        w.stop()


def _subjects(world: ExchangeWorld) -> list[str]:
    return list(world.enterprises)


def _gateway_client(world: ExchangeWorld, requester: str, owner: str) -> GatewayClient:
    dept = world.departments[owner]
    assert dept.gateway is not None
    key = world.departments[requester].admin
    return GatewayClient(dept.gateway.url, key=key, node=world.client(key))


def _fetch(
    world: ExchangeWorld, requester: str, owner: str, grant_id: str, subject: str, fields: list[str]
) -> dict[str, Any]:
    with _gateway_client(world, requester, owner) as gw:
        result = gw.fetch(
            grant_id,
            resource_id=world.departments[owner].resource_id,
            subject=subject,
            fields=fields,
            requester=requester,
        )
    assert result.countersigned
    return result.values


def _code(
    world: ExchangeWorld,
    requester: str,
    owner: str,
    grant_id: str,
    subject: str,
    fields: list[str],
    *,
    resource_id: str | None = None,
) -> str:
    with _gateway_client(world, requester, owner) as gw, pytest.raises(GovchainError) as err:
        gw.fetch(
            grant_id,
            resource_id=resource_id or world.departments[owner].resource_id,
            subject=subject,
            fields=fields,
            requester=requester,
        )
    return err.value.code


def _audited(world: ExchangeWorld, owner: str, grant_id: str, count: int) -> list[dict[str, Any]]:
    """Wait until ``count`` accesses under the grant are anchored; the audit trail."""
    dept = world.departments[owner]
    assert dept.gateway is not None
    dept.gateway.wait_for(lambda h: h["receipts"]["countersigned"] == 0)
    audit = AuditClient(world.client(dept.admin))
    records = audit.access(grant=grant_id).records
    assert len(records) == count
    return records


# --- the exchange ------------------------------------------------------------------------------


def test_tax_fetches_from_market_postgres_with_the_cli(world: ExchangeWorld) -> None:
    subject = _subjects(world)[0]
    grant_id = world.grant(TAX, MARKET, subject, ENTERPRISE_FIELDS)
    tax_key = world.node.network.dir / "orgs" / TAX / "admin.key"
    result = run_cli(
        "share",
        "fetch",
        "--grant",
        grant_id,
        "--fields",
        "name,status",
        "--node",
        world.node.url,
        "--key",
        str(tax_key),
        "--json",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    row = sample_row("enterprises", subject)
    assert answer["values"] == {"name": row["name"], "status": row["status"]}
    assert answer["countersigned"] is True
    records = _audited(world, MARKET, grant_id, 1)
    assert records[0]["fields"] == ["name", "status"]
    assert records[0]["requester"] == TAX and records[0]["owner"] == MARKET


def test_market_fetches_from_tax_sqlite_with_the_sdk(world: ExchangeWorld) -> None:
    subject = _subjects(world)[1]
    grant_id = world.grant(MARKET, TAX, subject, TAX_FIELDS, max_uses=3)
    for _ in range(2):
        values = _fetch(world, MARKET, TAX, grant_id, subject, TAX_FIELDS)
    row = sample_row("taxpayers", subject)
    assert values == {"tax_status": row["tax_status"], "arrears": str(row["arrears"])}
    records = _audited(world, TAX, grant_id, 2)
    assert {r["subject"] for r in records} == {subject}
    grant = read_grant(world.client(world.departments[TAX].admin), grant_id).grant
    assert grant is not None and grant.uses == 2


def test_an_enterprise_fetches_its_own_record_with_the_cli(
    world: ExchangeWorld, tmp_path: Path
) -> None:
    """Not a member: the grant is read as a party, the owner's key checked against the
    catalogue."""
    subject = _subjects(world)[2]
    key = world.enterprises[subject]
    request = world.sharing(key).request(
        key, "market.enterprises", ["name", "status"], purpose="Own record", subject=subject
    )
    market = world.departments[MARKET].admin
    grant_id = world.sharing(market).approve(market, request["id"])["grant_id"]
    key_file = tmp_path / "enterprise.key"
    save_key(key_file, key)
    result = run_cli(
        "share", "fetch", "--grant", grant_id, "--node", world.node.url, "--key", str(key_file)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert str(sample_row("enterprises", subject)["name"]) in result.stdout
    assert "counter-signed and returned" in result.stdout


# --- refusals ----------------------------------------------------------------------------------


def test_no_grant(world: ExchangeWorld) -> None:
    subject = _subjects(world)[0]
    assert _code(world, TAX, MARKET, "0" * 32, subject, ["name"]) == "GATEWAY_GRANT_NOT_FOUND"


def test_consent_missing_for_personal_data_means_no_grant(world: ExchangeWorld) -> None:
    citizen, citizen_key = world.register_citizen()
    tax = world.departments[TAX].admin
    market = world.departments[MARKET].admin
    request = world.sharing(tax).request(
        tax,
        "market.enterprises",
        ["legal_representative"],
        purpose="Verify the legal representative",
        subject=citizen,
    )
    with pytest.raises(ContractError) as err:
        world.sharing(market).approve(market, request["id"])
    assert err.value.code == "SHARE_CONSENT_MISSING"
    missing = _code(world, TAX, MARKET, request["id"], citizen, ["legal_representative"])
    assert missing == "GATEWAY_GRANT_NOT_FOUND"
    world.sharing(citizen_key).consent(citizen_key, request["id"])
    approved = world.sharing(market).approve(market, request["id"])
    assert approved["grant_id"] == request["id"]
    unknown = _code(world, TAX, MARKET, request["id"], citizen, ["legal_representative"])
    assert unknown == "GATEWAY_RECORD_NOT_FOUND"  # granted, but the register has no such row


def test_expired_grant(world: ExchangeWorld) -> None:
    subject = _subjects(world)[0]
    grant_id = world.grant(TAX, MARKET, subject, ["name"], duration_days=1 / 86_400_000)
    assert _code(world, TAX, MARKET, grant_id, subject, ["name"]) == "GATEWAY_GRANT_EXPIRED"


def test_revoked_grant(world: ExchangeWorld) -> None:
    subject = _subjects(world)[0]
    grant_id = world.grant(TAX, MARKET, subject, ["name"])
    assert _fetch(world, TAX, MARKET, grant_id, subject, ["name"])
    market = world.departments[MARKET]
    world.sharing(market.admin).revoke(market.admin, grant_id, "Purpose fulfilled")
    height = world.node.status()["height"]
    assert market.gateway is not None
    market.gateway.wait_for(lambda h: (h["chain_head"] or -1) >= height)
    assert _code(world, TAX, MARKET, grant_id, subject, ["name"]) == "GATEWAY_GRANT_REVOKED"


def test_fields_subject_and_resource_outside_the_grant(world: ExchangeWorld) -> None:
    first, other = _subjects(world)[0], _subjects(world)[1]
    grant_id = world.grant(TAX, MARKET, first, ["name"])
    outside = _code(world, TAX, MARKET, grant_id, first, ["name", "legal_representative"])
    assert outside == "GATEWAY_FIELDS_NOT_GRANTED"
    assert _code(world, TAX, MARKET, grant_id, other, ["name"]) == "GATEWAY_WRONG_SUBJECT"
    unknown = _code(world, TAX, MARKET, grant_id, first, ["name"], resource_id="tax.taxpayers")
    assert unknown == "GATEWAY_UNKNOWN_RESOURCE"


def test_another_department_cannot_use_the_grant(world: ExchangeWorld) -> None:
    subject = _subjects(world)[0]
    grant_id = world.grant(TAX, MARKET, subject, ["name"])
    market_gateway = world.departments[MARKET].gateway
    assert market_gateway is not None
    health = world.node.network.key("health-commission")
    with GatewayClient(market_gateway.url, key=health) as gw, pytest.raises(GovchainError) as err:
        gw.fetch(
            grant_id,
            resource_id="market.enterprises",
            subject=subject,
            fields=["name"],
            requester=TAX,
        )
    assert err.value.code == "GATEWAY_NOT_GRANTEE"


def test_uses_over_the_limit_count_receipts_not_yet_anchored(world: ExchangeWorld) -> None:
    subject = _subjects(world)[1]
    grant_id = world.grant(MARKET, TAX, subject, ["arrears"], max_uses=1)
    assert _fetch(world, MARKET, TAX, grant_id, subject, ["arrears"])
    assert _code(world, MARKET, TAX, grant_id, subject, ["arrears"]) == "GATEWAY_GRANT_EXHAUSTED"


def _signed_fetch(dept: Department, key: Any, request: FetchRequest) -> httpx.Request:
    assert dept.gateway is not None
    http = httpx.Client(base_url=dept.gateway.url)
    body = msgspec.json.encode(request)
    raw = http.build_request(
        "POST", FETCH_PATH, content=body, headers={"Content-Type": "application/json"}
    )
    return sign_request(raw, key)


def test_replayed_unsigned_and_badly_signed_requests(world: ExchangeWorld) -> None:
    subject = _subjects(world)[0]
    grant_id = world.grant(TAX, MARKET, subject, ["name"])
    market, tax = world.departments[MARKET], world.departments[TAX]
    request = _signed_fetch(
        market, tax.admin, FetchRequest(grant_id, market.resource_id, subject, ["name"], TAX)
    )
    with httpx.Client() as http:
        assert http.send(request).status_code == 200
        replay = http.send(request)
        assert (replay.status_code, replay.json()["code"]) == (401, "AUTH_REPLAYED")
        tampered = _signed_fetch(
            market, tax.admin, FetchRequest(grant_id, market.resource_id, subject, ["name"], TAX)
        )
        forged = httpx.Request(
            "POST",
            tampered.url,
            headers={"Authorization": tampered.headers["Authorization"]},
            content=tampered.content.replace(b'"name"', b'"status"'),
        )
        assert http.send(forged).json()["code"] == "AUTH_BAD_SIGNATURE"
        unsigned = http.post(str(tampered.url), content=tampered.content)
        assert unsigned.json()["code"] == "AUTH_REQUIRED"


def test_altered_and_forged_receipts_are_refused(world: ExchangeWorld) -> None:
    subject = _subjects(world)[1]
    grant_id = world.grant(MARKET, TAX, subject, ["arrears", "tax_status"])
    market = world.departments[MARKET]
    with _gateway_client(world, MARKET, TAX) as gw:
        answer, _ = gw.fetch_raw(
            FetchRequest(grant_id, "tax.taxpayers", subject, ["arrears"], MARKET)
        )
        receipt = decode_receipt(answer.receipt)
        altered = countersign_receipt(
            msgspec.structs.replace(receipt, fields=["arrears", "tax_status"]), market.admin
        )
        with pytest.raises(GovchainError) as err:
            gw.countersign(altered)
        assert err.value.code == "GATEWAY_RECEIPT_MISMATCH"
        forged = msgspec.structs.replace(receipt, requester_signature=os.urandom(64))
        with pytest.raises(GovchainError) as err:
            gw.countersign(forged)
        assert err.value.code == "GATEWAY_RECEIPT_BAD_SIGNATURE"
        assert gw.countersign(countersign_receipt(receipt, market.admin))


# --- nothing in clear ---------------------------------------------------------------------------


def _values(world: ExchangeWorld) -> list[bytes]:
    out = []
    for subject in world.enterprises:
        enterprise = sample_row("enterprises", subject)
        taxpayer = sample_row("taxpayers", subject)
        out += [
            str(enterprise["name"]).encode(),
            str(enterprise["legal_representative"]).encode(),
            str(enterprise["registered_capital"]).encode(),
            str(taxpayer["arrears"]).encode(),
        ]
    return out


def _files(directory: Path) -> Iterator[Path]:
    for path in directory.rglob("*"):
        if path.is_file():
            yield path


def test_data_never_on_chain_nor_in_logs(world: ExchangeWorld) -> None:
    world.stop()  # gateways anchor what is ready and close their logs
    values = _values(world)
    scanned = [*_files(world.node.network.node_dir), world.node.log_path]
    scanned += [d.gateway.log_path for d in world.departments.values() if d.gateway]
    scanned += [d.gateway.dir / "journal.db" for d in world.departments.values() if d.gateway]
    assert any(p.name.startswith("ledger") for p in scanned)
    for path in scanned:
        content = path.read_bytes()
        leaked = [v for v in values if v in content]
        assert not leaked, f"{path.name} holds data values in clear"
    blocks = world.client(world.departments[TAX].admin)
    top = blocks.status()["height"]
    for height in range(top + 1):
        text = json.dumps(blocks.block(height, full=True)).encode()
        assert not [v for v in values if v in text]

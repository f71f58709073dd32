"""The web console in a real browser: a node process on a free port, headless Chromium driven by
Selenium. A credential is issued on the chain first (accreditation by governance votes, an issuer
member, a schema), so that verifying shows real checks. The node opens its ledger pages to
everyone (``console_ledger = "public"``); the unit tests cover the default, where they are
closed."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from govchain.api.routes_console import CONTENT_SECURITY_POLICY
from govchain.client import add_signature
from govchain.client.certs import issue_credential
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import Accredit
from govchain.credentials.cose import CwtClaims
from govchain.credentials.qr import encode_qr_payload
from govchain.credentials.schema import DRAFT_2020_12
from govchain.credentials.vc import compute_credential_id
from govchain.crypto.signing import ED25519, get_scheme
from integration.nodeproc import NodeProcess, init_network

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CREDENTIAL_TYPE = "BusinessLicence"
SCHEMA = {
    "$schema": DRAFT_2020_12,
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
}
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (scripts/deps/chromium.sh installs them)",
)


@dataclass
class Issued:
    vc: dict[str, Any]
    qr: str
    digest: str  # its hash, the anchor's id
    height: int  # the block that anchored it
    tx_id: str


@dataclass
class World:
    node: NodeProcess
    issued: Issued

    @property
    def url(self) -> str:
        return self.node.url + "/console"


def _issue(node: NodeProcess) -> Issued:
    net = node.network
    admin = net.key("tax")
    client = node.client()
    proposal = client.send(
        admin, "governance", "propose", ProposeArgs(Accredit("tax", CREDENTIAL_TYPE))
    ).result["id"]
    for org in ("market-regulation", "health-commission"):
        client.send(net.key(org), "governance", "vote", VoteArgs(proposal, True))
    issuer = get_scheme(ED25519).generate()
    enrol = {"org": "tax", "name": "issuer", "public_key": issuer.public_key, "roles": ["issuer"]}
    raw = add_signature(client.build(admin, "identity", "enrol_member", enrol), issuer)
    assert client.wait(client.submit(raw)).ok
    issuer_client = node.client(key=issuer)
    schema = {
        "credential_type": CREDENTIAL_TYPE,
        "version": "1.0",
        "schema_json": json.dumps(SCHEMA),
    }
    issuer_client.send(issuer, "certs", "register_schema", schema)
    vc = issue_credential(
        issuer_client,
        issuer,
        issuer_org="tax",
        credential_type=CREDENTIAL_TYPE,
        schema_version="1.0",
        subject={"id": "did:example:harbour-foods", "name": "Harbour Foods"},
        valid_from="2024-01-01T00:00:00Z",
        valid_until="2099-01-01T00:00:00Z",
        assurance_level="B",
    )
    digest = compute_credential_id(vc)
    anchor = node.client(anonymous=True).credential_status(digest)["anchor"]
    claims = CwtClaims(
        iss=vc["issuer"],
        sub=vc["credentialSubject"]["id"],
        iat=int(time.time()),
        claims={"hash": digest, "type": CREDENTIAL_TYPE},
    )
    kid = vc["proof"]["verificationMethod"].encode()
    qr = encode_qr_payload(claims, issuer, kid)
    return Issued(vc, qr, digest, anchor["height"], anchor["tx_id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("console")
    network = init_network(base / "net")
    network.edit_node_config(console_ledger="public")  # the default leaves blocks to members
    node = NodeProcess(network, base / "node.log")
    try:
        node.start()
        yield World(node, _issue(node))
    finally:
        node.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _verify(browser: WebDriver, world: World, text: str) -> dict[str, tuple[str, str]]:
    """Paste ``text`` into the verify form, submit, and read the checks: name -> (outcome, code)."""
    browser.get(world.url + "/verify")
    area = browser.find_element(By.ID, "text")
    area.clear()
    area.send_keys(text)
    browser.find_element(By.ID, "verify-submit").click()
    wait = WebDriverWait(browser, 30)
    wait.until(expected_conditions.staleness_of(area))  # the answer page replaced the form
    wait.until(expected_conditions.presence_of_element_located((By.ID, "verdict")))
    rows = browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")
    checks = {}
    for row in rows:
        cells = row.find_elements(By.TAG_NAME, "td")
        checks[cells[0].text] = (cells[1].text, cells[2].text)
    return checks


def test_overview_shows_the_height(browser: WebDriver, world: World) -> None:
    height = world.node.status()["height"]
    browser.get(world.url)
    shown = int(browser.find_element(By.ID, "height").text)
    assert shown >= height >= world.issued.height
    header = browser.find_element(By.CSS_SELECTOR, "header.top")
    assert header.value_of_css_property("background-color") == "rgba(245, 247, 250, 1)"


def test_click_through_to_a_block_and_a_transaction(browser: WebDriver, world: World) -> None:
    height = world.issued.height
    browser.get(world.url + f"/blocks?top={height}")
    browser.find_element(By.LINK_TEXT, str(height)).click()
    WebDriverWait(browser, 30).until(expected_conditions.url_to_be(f"{world.url}/blocks/{height}"))
    assert browser.find_element(By.ID, "block-height").text == str(height)
    rows = browser.find_elements(By.CSS_SELECTOR, "#txs tbody tr")
    assert any("certs" in r.text and "anchor" in r.text for r in rows)
    link = browser.find_element(
        By.CSS_SELECTOR, f'#txs a[href="/console/txs/{world.issued.tx_id}"]'
    )
    link.click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains(world.issued.tx_id))
    assert "ok" in browser.find_element(By.ID, "tx-status").text
    assert "certs · anchor" in browser.find_element(By.TAG_NAME, "main").text


def test_the_organisations_table_lists_the_sample_city(browser: WebDriver, world: World) -> None:
    browser.get(world.url + "/orgs")
    table = browser.find_element(By.ID, "orgs").text
    for english, chinese in (("Tax Bureau", "税务局"), ("Haishu District", "海曙区")):
        assert english in table and chinese in table
    assert len(browser.find_elements(By.CSS_SELECTOR, "#orgs tbody tr")) == 5


def test_a_valid_credential_passes_every_check(browser: WebDriver, world: World) -> None:
    checks = _verify(browser, world, json.dumps(world.issued.vc))
    assert browser.find_element(By.ID, "verdict-summary").text.startswith("All checks passed")
    assert len(checks) == 11
    assert {outcome for outcome, _ in checks.values()} == {"passed"}
    anchor = f'#verdict a[href="/console/credentials/{world.issued.digest}"]'
    assert browser.find_elements(By.CSS_SELECTOR, anchor)


def test_a_tampered_credential_names_the_failing_check(browser: WebDriver, world: World) -> None:
    tampered = json.loads(json.dumps(world.issued.vc))
    tampered["credentialSubject"]["name"] = "Someone Else Ltd."
    checks = _verify(browser, world, json.dumps(tampered))
    summary = browser.find_element(By.ID, "verdict-summary").text
    assert "signature (CRED_BAD_PROOF)" in summary
    assert checks["signature"] == ("failed", "CRED_BAD_PROOF"), checks
    assert checks["anchor"] == ("failed", "CERT_NOT_ANCHORED")


def test_a_qr_pass_is_checked_against_the_chain(browser: WebDriver, world: World) -> None:
    checks = _verify(browser, world, world.issued.qr)
    assert browser.find_element(By.ID, "verdict-summary").text.startswith("All checks passed")
    assert checks["verify"][0] == "passed" and checks["status"][0] == "passed"
    forged = encode_qr_payload(
        CwtClaims(iss=world.issued.vc["issuer"], claims={"hash": "00" * 32}),
        get_scheme(ED25519).generate(),
        world.issued.vc["proof"]["verificationMethod"].encode(),
    )
    checks = _verify(browser, world, forged)
    assert checks["verify"] == ("failed", "QR_BAD_SIGNATURE")
    assert checks["anchor"][0] == "skipped"
    broken = world.issued.qr[:-6] + (
        "AAAAAA" if not world.issued.qr.endswith("AAAAAA") else "BBBBBB"
    )
    checks = _verify(browser, world, broken)
    assert any(outcome == "failed" for outcome, _ in checks.values())


def test_search_redirects(browser: WebDriver, world: World) -> None:
    for query, path in (
        (world.issued.tx_id, f"/console/txs/{world.issued.tx_id}"),
        ("tax", "/console/orgs/tax"),
        (str(world.issued.height), f"/console/blocks/{world.issued.height}"),
        (world.issued.digest, f"/console/credentials/{world.issued.digest}"),
    ):
        browser.get(world.url)
        box = browser.find_element(By.ID, "q")
        box.send_keys(query)
        box.submit()
        WebDriverWait(browser, 30).until(expected_conditions.url_to_be(world.node.url + path))
    browser.get(world.url + "/search?q=no-such-thing")
    assert "What to try" in browser.find_element(By.TAG_NAME, "main").text


PAGES = (
    "",
    "/blocks",
    "/blocks/1",
    "/orgs",
    "/orgs/tax",
    "/verify",
    "/notary",
    "/catalog",
    "/services",
    "/no-such-page",
)


def test_every_page_has_the_policy_and_no_inline_script(browser: WebDriver, world: World) -> None:
    for page in PAGES:
        response = httpx.get(world.url + page, timeout=30)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, page
        browser.get(world.url + page)
        assert browser.find_elements(By.TAG_NAME, "script") == [], page
        assert browser.find_elements(By.CSS_SELECTOR, "[style]") == [], page
        source = browser.page_source.lower()
        assert " onclick=" not in source and " onload=" not in source, page
    refused = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert refused == []  # the stylesheet and the icon load under the policy


def test_a_credential_anchor_page_shows_its_status(browser: WebDriver, world: World) -> None:
    browser.get(f"{world.url}/credentials/{world.issued.digest}")
    assert browser.find_element(By.ID, "credential-status").text == "active"
    assert "Harbour Foods" not in browser.page_source  # the chain holds no claims

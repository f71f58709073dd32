"""Issuer-signed status lists: publishing through the certs contract, and the named checks of a
fetched list (the node's online verifier over the same pure checker the client runs)."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest
from certs_world import CertWorld, key_for, make_world
from identity_world import ACTORS, World

from govchain.app.verify_status_list import LIST_CHECKS, verify_status_list
from govchain.client.status_lists import build_signed_status_list, get_list_status
from govchain.contracts.certs_status_lists import MAX_STATUS_LIST_JSON, StatusListRecord
from govchain.contracts.did import did_of
from govchain.credentials.status_list import StatusList
from govchain.crypto.signing import KeyPair
from govchain.errors import NotFoundInState

FROM, UNTIL = "2023-11-14T00:00:00Z", "2023-11-20T00:00:00Z"  # the unit chain runs in between
URL = "https://node.example/v1/credentials/status-lists/tax/revocation"


@pytest.fixture
def w(chain: Any) -> CertWorld:
    return make_world(chain)


def method_of(w: CertWorld, key: KeyPair) -> str:
    member = w.chain.app.query("identity", "key", {"public_key": key.public_key})
    return f"{did_of(w.chain.chain_id, member.id)}#key-1"


def signed_list(
    w: CertWorld,
    key: KeyPair | None = None,
    *,
    org: str = "tax",
    purpose: str = "revocation",
    bits: StatusList | None = None,
    method: str | None = None,
    valid_from: str = FROM,
    valid_until: str = UNTIL,
) -> dict[str, Any]:
    key = key or w.issuer
    if bits is None:
        args = {"org": org, "purpose": purpose, "list_url": URL}
        derived = w.chain.app.query("certs", "status_list", args)
        bits = StatusList.decode(derived["credentialSubject"]["encodedList"])
    return build_signed_status_list(
        key,
        verification_method=method or method_of(w, key),
        issuer_did=did_of(w.chain.chain_id, org),
        purpose=purpose,  # type: ignore[arg-type]
        list_url=URL,
        bits=bits,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def publish(
    w: CertWorld,
    document: dict[str, Any],
    key: KeyPair | None = None,
    *,
    org: str = "tax",
    purpose: str = "revocation",
    list_height: int | None = None,
) -> str:
    args = {
        "org": org,
        "purpose": purpose,
        "list_height": w.chain.height if list_height is None else list_height,
        "credential_json": msgspec.json.encode(document).decode(),
    }
    return w.code(key or w.issuer, "publish_status_list", args)


def verdict(w: CertWorld, document: Any, **kw: Any) -> dict[str, str]:
    """``{check: code}`` of the failed checks (empty when valid)."""
    now = kw.pop("now_ms", w.chain.header.time_ms)
    result = verify_status_list(w.chain.app, document, now, **kw)
    assert [c.check for c in result.checks] == list(LIST_CHECKS)
    return {c.check: c.code for c in result.checks if c.ok is False}


def test_an_issuer_publishes_and_the_list_verifies(w: CertWorld) -> None:
    vc = w.issue()
    assert w.set_status(vc, "revoke") == "OK"
    document = signed_list(w)
    assert publish(w, document) == "OK"
    found = w.chain.app.query("certs", "published_status_list", {"org": "tax"})
    assert isinstance(found["record"], StatusListRecord)
    assert msgspec.json.decode(found["credential_json"]) == document
    assert verdict(w, document, issuer=vc["issuer"]) == {}
    assert get_list_status(document, vc) is True
    assert get_list_status(document, w.issue()) is False


def test_an_admin_may_publish_an_officer_may_not(w: CertWorld) -> None:
    admin = w.chain.admin("tax")
    assert publish(w, signed_list(w, admin), admin) == "OK"
    assert publish(w, signed_list(w, w.officer), w.officer) == "CERT_NOT_ISSUER"


def test_a_member_of_another_org_may_not_publish_for_it(w: CertWorld) -> None:
    other = key_for("health-issuer")
    w.enrol("health", "issuer", other, ["issuer"])
    assert publish(w, signed_list(w, other), other) == "CERT_NOT_ISSUER"


def test_altered_list(w: CertWorld) -> None:
    document = signed_list(w)
    assert publish(w, document) == "OK"
    bits = StatusList.decode(document["credentialSubject"]["encodedList"])
    bits.set(7)
    altered = copy.deepcopy(document)
    altered["credentialSubject"]["encodedList"] = bits.encode()
    assert verdict(w, altered) == {
        "anchor": "STATUS_LIST_NOT_ANCHORED",
        "signature": "STATUS_LIST_BAD_SIGNATURE",
    }


def test_forged_list_signed_by_a_stranger(w: CertWorld) -> None:
    stranger = key_for("stranger")
    forged = signed_list(w, stranger, method=method_of(w, w.issuer))
    assert publish(w, forged) == "CERT_STATUS_LIST_INVALID"  # not the sender's key
    assert verdict(w, forged)["anchor"] == "STATUS_LIST_NOT_ANCHORED"


def test_list_signed_by_another_org(w: CertWorld) -> None:
    vc = w.issue()
    other = key_for("health-issuer")
    w.enrol("health", "issuer", other, ["issuer"])
    theirs = signed_list(w, other, org="health")
    assert publish(w, theirs, other, org="health") == "OK"
    assert verdict(w, theirs) == {}  # a fine list of health's ...
    assert verdict(w, theirs, issuer=vc["issuer"]) == {"issuer": "STATUS_LIST_WRONG_ISSUER"}
    # ... and a list claiming tax as issuer but signed by health's member
    claimed = signed_list(w, other, org="tax")
    assert publish(w, claimed, other) == "CERT_NOT_ISSUER"
    assert verdict(w, claimed)["anchor"] == "STATUS_LIST_NOT_ANCHORED"


def test_stale_list(w: CertWorld) -> None:
    document = signed_list(w)
    assert publish(w, document) == "OK"
    after = 1_700_000_000_000 + 7 * 86_400_000
    assert verdict(w, document, now_ms=after) == {"freshness": "STATUS_LIST_STALE"}
    later = w.chain.header.time_ms + 60_000
    assert verdict(w, document, now_ms=later, max_age_ms=1_000) == {
        "freshness": "STATUS_LIST_STALE"
    }


def test_superseded_list(w: CertWorld) -> None:
    first = signed_list(w)
    assert publish(w, first) == "OK"
    assert w.set_status(w.issue(), "revoke") == "OK"
    second = signed_list(w)
    assert publish(w, second) == "OK"
    assert verdict(w, first) == {"anchor": "STATUS_LIST_SUPERSEDED"}
    assert verdict(w, second) == {}


def test_content_that_is_not_the_state(w: CertWorld) -> None:
    bits = StatusList()
    bits.set(3)  # nothing was revoked
    document = signed_list(w, bits=bits)
    assert publish(w, document) == "OK"  # the chain anchors what the issuer signed ...
    assert verdict(w, document) == {"content": "STATUS_LIST_CONTENT_MISMATCH"}  # ... and says so


def test_list_signed_by_a_member_without_a_publishing_role(w: CertWorld) -> None:
    auditor = key_for("tax-auditor")
    w.enrol("tax", "auditor", auditor, ["auditor"])
    theirs = signed_list(w, auditor)
    assert publish(w, theirs, auditor) == "CERT_NOT_ISSUER"
    assert verdict(w, theirs) == {
        "anchor": "STATUS_LIST_NOT_ANCHORED",
        "key": "STATUS_LIST_KEY_NOT_VALID",
    }


def test_list_not_yet_valid(w: CertWorld) -> None:
    document = signed_list(w)
    assert publish(w, document) == "OK"
    before = 1_699_000_000_000
    assert verdict(w, document, now_ms=before) == {"freshness": "STATUS_LIST_NOT_YET_VALID"}


def test_garbage_is_malformed(w: CertWorld) -> None:
    failed = verdict(w, {"not": "a list"})
    assert failed["format"] == "STATUS_LIST_MALFORMED"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"purpose": "expiry"}, "CERT_BAD_ARGS"),
        ({"purpose": "suspension"}, "CERT_STATUS_LIST_INVALID"),  # the document says revocation
        ({"list_height": 10_000}, "CERT_BAD_ARGS"),
        ({"credential_json": "{"}, "CERT_STATUS_LIST_INVALID"),
        ({"credential_json": " " * (MAX_STATUS_LIST_JSON + 1)}, "CERT_STATUS_LIST_TOO_LARGE"),
    ],
)
def test_bad_publications(w: CertWorld, change: dict[str, Any], code: str) -> None:
    args = {
        "org": "tax",
        "purpose": "revocation",
        "list_height": w.chain.height,
        "credential_json": msgspec.json.encode(signed_list(w)).decode(),
        **change,
    }
    assert w.code(w.issuer, "publish_status_list", args) == code


def test_expired_when_published(w: CertWorld) -> None:
    expired = signed_list(w, valid_from="2023-01-01T00:00:00Z", valid_until="2023-02-01T00:00:00Z")
    assert publish(w, expired) == "CERT_STATUS_LIST_INVALID"


def test_older_state_and_republication(w: CertWorld) -> None:
    document = signed_list(w)
    height = w.chain.height
    assert publish(w, document, list_height=height) == "OK"
    assert publish(w, document, list_height=height) == "CERT_STATUS_LIST_EXISTS"
    older = signed_list(w, valid_from="2023-11-14T00:00:01Z")
    assert publish(w, older, list_height=height - 1) == "CERT_STATUS_LIST_STALE"


def test_no_published_list(w: CertWorld) -> None:
    with pytest.raises(NotFoundInState) as caught:
        w.chain.app.query("certs", "published_status_list", {"org": "tax"})
    assert caught.value.code == "CERT_NO_STATUS_LIST"
    with pytest.raises(NotFoundInState):
        w.chain.app.query("certs", "status_list_record", {"list_hash": bytes(32)})


# --- the authorisation matrix ----------------------------------------------------------------

LIST_ALLOWED = {"admin", "issuer"}  # of the organisation whose list it is


@pytest.mark.parametrize("actor", ACTORS)
def test_publish_status_list_matrix(world: World, actor: str) -> None:
    key = world.key(actor)
    chain = world.chain
    try:
        member = chain.app.query("identity", "key", {"public_key": key.public_key}).id
    except NotFoundInState:
        member = "tax:stranger"
    args = {"org": "tax", "purpose": "revocation", "list_url": URL}
    derived = chain.app.query("certs", "status_list", args)
    document = build_signed_status_list(
        key,
        verification_method=f"{did_of(chain.chain_id, member)}#key-1",
        issuer_did=did_of(chain.chain_id, "tax"),
        purpose="revocation",
        list_url=URL,
        bits=StatusList.decode(derived["credentialSubject"]["encodedList"]),
        valid_from=FROM,
        valid_until=UNTIL,
    )
    publish_args = {
        "org": "tax",
        "purpose": "revocation",
        "list_height": chain.height,
        "credential_json": msgspec.json.encode(document).decode(),
    }
    outcome = world.run(actor, "publish_status_list", publish_args, contract="certs")
    if actor in LIST_ALLOWED:
        assert outcome == "OK", actor
    else:
        expected = "TX_UNKNOWN_SENDER" if actor == "unregistered" else "CERT_NOT_ISSUER"
        assert outcome == expected, actor

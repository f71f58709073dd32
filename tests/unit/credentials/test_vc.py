"""VC Data Model 2.0 checks, XML Schema date-times, the validity window and the anchored hash."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from govchain.credentials.errors import (
    CredentialExpired,
    CredentialMalformed,
    CredentialNotYetValid,
    NotCanonicalizable,
)
from govchain.credentials.vc import (
    VC_CONTEXT_V2,
    check_credential,
    check_validity_window,
    compute_credential_hash,
    compute_credential_id,
    get_credential_types,
    get_issuer_id,
    parse_datetime_stamp,
)


def _vc() -> dict[str, Any]:
    return {
        "@context": [VC_CONTEXT_V2, "https://city.example/contexts/licence/v1"],
        "id": "urn:uuid:3b7e0c1a-9a52-4a8f-9d0a-5f3c1b2e4d6f",
        "type": ["VerifiableCredential", "BusinessLicence"],
        "issuer": {"id": "did:govchain:city:market", "name": "Market Regulation Bureau"},
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2030-01-01T00:00:00+08:00",
        "credentialSubject": {"id": "did:govchain:city:acme", "licenceNo": "91310000"},
    }


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_a_valid_credential_passes() -> None:
    check_credential(_vc())
    assert get_issuer_id(_vc()) == "did:govchain:city:market"
    assert get_credential_types(_vc()) == ("VerifiableCredential", "BusinessLicence")


def test_minimal_forms_pass() -> None:
    vc = {
        "@context": [VC_CONTEXT_V2],
        "type": "VerifiableCredential",
        "issuer": "https://city.example/issuers/1",
        "credentialSubject": [{"licenceNo": "1"}, {"licenceNo": "2"}],
    }
    check_credential(vc)
    assert get_issuer_id(vc) == "https://city.example/issuers/1"


_DROP = object()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("@context", _DROP),
        ("@context", []),
        ("@context", VC_CONTEXT_V2),
        ("@context", ["https://www.w3.org/2018/credentials/v1"]),
        ("@context", [VC_CONTEXT_V2, 5]),
        ("type", _DROP),
        ("type", ["BusinessLicence"]),
        ("type", ["VerifiableCredential", 3]),
        ("type", 7),
        ("issuer", _DROP),
        ("issuer", "market bureau"),
        ("issuer", {"name": "no id"}),
        ("issuer", 12),
        ("credentialSubject", _DROP),
        ("credentialSubject", {}),
        ("credentialSubject", []),
        ("credentialSubject", "did:govchain:city:acme"),
        ("credentialSubject", [{"a": 1}, "b"]),
        ("id", "not a url"),
        ("id", 5),
        ("validFrom", "2025-01-01"),
        ("validFrom", "2025-01-01T00:00:00"),
        ("validUntil", 1735689600),
        ("validUntil", "2024-12-31T23:59:59Z"),
    ],
)
def test_each_malformed_field_is_named(field: str, value: Any) -> None:
    vc = _vc()
    if value is _DROP:
        del vc[field]
    else:
        vc[field] = value
    with pytest.raises(CredentialMalformed) as caught:
        check_credential(vc)
    assert caught.value.code == "CRED_MALFORMED"
    assert caught.value.details["field"] == field
    assert caught.value.message.startswith(field)


def test_a_non_object_is_malformed() -> None:
    with pytest.raises(CredentialMalformed):
        check_credential(["VerifiableCredential"])


# --- XML Schema dateTimeStamp -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("2023-01-01T00:00:00Z", 1672531200),
        ("2023-01-01T08:00:00+08:00", 1672531200),
        ("2022-12-31T19:00:00-05:00", 1672531200),
        ("2024-02-29T12:00:00Z", 1709208000),
        ("2023-01-01T00:00:00.25Z", Fraction(6690124801, 4)),
        ("2023-12-31T24:00:00Z", 1704067200),
        ("1969-12-31T23:59:59Z", -1),
        ("0001-01-01T00:00:00Z", -62135596800),
        ("9999-12-31T23:59:59+14:00", 253402250399),
    ],
)
def test_parse_datetime_stamp(text: str, seconds: Fraction | int) -> None:
    assert parse_datetime_stamp(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "2023-01-01",
        "2023-01-01T00:00:00",
        "2023-01-01 00:00:00Z",
        "2023-01-01t00:00:00z",
        "2023-13-01T00:00:00Z",
        "2023-00-10T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2023-04-31T00:00:00Z",
        "2023-01-01T25:00:00Z",
        "2023-01-01T24:00:01Z",
        "2023-01-01T24:00:00.5Z",
        "2023-01-01T23:60:00Z",
        "2023-01-01T23:59:60Z",
        "2023-01-01T00:00:00+15:00",
        "2023-01-01T00:00:00+14:30",
        "2023-01-01T00:00:00+05:60",
        "2023-01-01T00:00:00.Z",
        "2023-01-01T00:00:00." + "0" * 13 + "Z",
        "-2023-01-01T00:00:00Z",
        "２０２３-01-01T00:00:00Z",
        "",
    ],
)
def test_bad_datetimes_are_malformed(text: str) -> None:
    with pytest.raises(CredentialMalformed):
        parse_datetime_stamp(text)


def test_non_strings_are_malformed() -> None:
    with pytest.raises(CredentialMalformed, match="validFrom"):
        parse_datetime_stamp(1672531200, field="validFrom")


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5, minutes=30))]
        ),
    )
)
def test_parse_agrees_with_the_standard_library(moment: datetime) -> None:
    text = moment.isoformat().replace("+00:00", "Z")
    expected = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert parse_datetime_stamp(text) * 1_000_000 == expected


# --- validity window ----------------------------------------------------------------------------


def test_the_validity_window() -> None:
    vc = _vc()
    check_validity_window(vc, _ms("2026-06-01T00:00:00+00:00"))
    check_validity_window(vc, _ms("2025-01-01T00:00:00+00:00"))  # bounds are inclusive
    check_validity_window(vc, _ms("2029-12-31T16:00:00+00:00"))
    with pytest.raises(CredentialNotYetValid) as early:
        check_validity_window(vc, _ms("2025-01-01T00:00:00+00:00") - 1)
    assert early.value.code == "CRED_NOT_YET_VALID"
    assert early.value.details == {"valid_from": "2025-01-01T00:00:00Z"}
    with pytest.raises(CredentialExpired) as late:
        check_validity_window(vc, _ms("2029-12-31T16:00:00+00:00") + 1)
    assert late.value.code == "CRED_EXPIRED"


def test_sub_millisecond_bounds_are_exact() -> None:
    vc = {
        **_vc(),
        "validFrom": "2025-01-01T00:00:00.0005Z",
        "validUntil": "2025-01-01T00:00:00.0015Z",
    }
    start = _ms("2025-01-01T00:00:00+00:00")
    with pytest.raises(CredentialNotYetValid):
        check_validity_window(vc, start)
    check_validity_window(vc, start + 1)
    with pytest.raises(CredentialExpired):
        check_validity_window(vc, start + 2)


def test_no_window_is_always_valid() -> None:
    vc = _vc()
    del vc["validFrom"], vc["validUntil"]
    check_validity_window(vc, 0)
    check_validity_window(vc, 10**15)


@pytest.mark.parametrize("now", [1.5, "2025-01-01T00:00:00Z", True, None])
def test_now_must_be_integer_milliseconds(now: Any) -> None:
    with pytest.raises(TypeError):
        check_validity_window(_vc(), now)


def test_a_malformed_window_is_malformed_not_expired() -> None:
    with pytest.raises(CredentialMalformed):
        check_validity_window({**_vc(), "validUntil": "tomorrow"}, 0)


# --- the anchored hash --------------------------------------------------------------------------


def test_the_credential_hash_is_sha256_of_jcs() -> None:
    vc = {**_vc(), "proof": {"type": "DataIntegrityProof", "proofValue": "z1"}}
    expected = hashlib.sha256(rfc8785.dumps(vc)).digest()
    assert compute_credential_hash(vc) == expected
    assert compute_credential_id(vc) == expected.hex()
    reordered = dict(reversed(list(vc.items())))
    assert compute_credential_hash(reordered) == expected


def test_the_hash_covers_the_proof_and_every_claim() -> None:
    base = {**_vc(), "proof": {"proofValue": "z1"}}
    changed_proof = copy.deepcopy(base)
    changed_proof["proof"]["proofValue"] = "z2"
    changed_claim = copy.deepcopy(base)
    changed_claim["credentialSubject"]["licenceNo"] = "91310001"
    hashes = {compute_credential_id(v) for v in (base, changed_proof, changed_claim)}
    assert len(hashes) == 3


def test_floats_are_refused_in_the_hash() -> None:
    with pytest.raises(NotCanonicalizable, match="credentialSubject.area"):
        compute_credential_hash({**_vc(), "credentialSubject": {"area": 12.5}})

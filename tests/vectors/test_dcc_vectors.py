"""EU Digital COVID Certificate 2D-code conformance cases (``../shared/vectors/dcc/2DCode-raw``).

Every case is decoded from its ``PREFIX`` text with its ``TESTCTX`` certificate as the only trusted
signer (kid = first 8 bytes of SHA-256 over the certificate, as in the DCC trust lists) and its
``VALIDATIONCLOCK`` as the time. For each step a case states, the decoder's result must match; a
step expected to fail must either fail with its reason, or not be reached because an earlier step
failed with its reason. Decoding the ``2DCODE`` picture and DCC schema validation are out of scope
and are skipped explicitly.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest

from govchain.credentials.cose import compute_certificate_kid, load_certificate
from govchain.credentials.qr import (
    QR_REASONS,
    DecodedQr,
    QrStep,
    StepStatus,
    decode_qr_payload,
    is_dcc_key_usage_allowed,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = PROJECT_ROOT.parent / "shared" / "vectors" / "dcc" / "2DCode-raw"
CASE_FILES = sorted(CASES_DIR.glob("*.json")) if CASES_DIR.is_dir() else []

# expectation name -> the decoder step whose outcome it states
STEP_OF: dict[str, QrStep] = {
    "EXPECTEDUNPREFIX": QrStep.UNPREFIX,
    "EXPECTEDB45DECODE": QrStep.BASE45,
    "EXPECTEDCOMPRESSION": QrStep.DECOMPRESS,
    "EXPECTEDDECODE": QrStep.CLAIMS,  # COSE structure and CBOR claims both decode
    "EXPECTEDVERIFY": QrStep.VERIFY,
    "EXPECTEDEXPIRATIONCHECK": QrStep.EXPIRY,
}
NOT_IN_SCOPE = {
    "EXPECTEDSCHEMAVALIDATION": "the DCC JSON schema is not among the shared vectors",
}
CHECKED_HERE = {"EXPECTEDVALIDJSON", "EXPECTEDKEYUSAGE", "EXPECTEDPICTUREDECODE"}

# The reason each failing case must give: pins down *why* it fails, not only *that* it does.
EXPECTED_REASON = {
    "B1": "QR_BAD_BASE45",
    "CBO1": "QR_BAD_CBOR",
    "CBO2": "QR_BAD_COSE",
    "CO5": "QR_BAD_SIGNATURE",
    "CO16": "QR_NOT_YET_VALID",
    "CO17": "QR_EXPIRED",
    "CO22": "QR_UNKNOWN_KID",
    "CO23": "QR_UNKNOWN_KID",
    "H1": "QR_BAD_PREFIX",
    "H2": "QR_BAD_PREFIX",
    "H3": "QR_BAD_PREFIX",
    "Z1": "QR_BAD_COMPRESSION",
    "Z2": "QR_BAD_COMPRESSION",
}


def _load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


def _epoch(clock: str) -> int:
    return int(dt.datetime.fromisoformat(clock.replace("Z", "+00:00")).timestamp())


def _decode(case: dict[str, Any]) -> DecodedQr:
    context = case["TESTCTX"]
    certificate = load_certificate(base64.b64decode(context["CERTIFICATE"]))
    trusted = {compute_certificate_kid(certificate): certificate}
    clock = context.get("VALIDATIONCLOCK") or context.get("validationClockInstant")
    now = _epoch(clock) if clock else None
    return decode_qr_payload(case["PREFIX"], key_or_cert_resolver=trusted, now=now)


def _check_step(name: str, expected: bool, result: DecodedQr) -> None:
    step = STEP_OF[name]
    outcome = result.get_step(step)
    if expected:
        assert outcome.status is StepStatus.PASSED, (name, result.failure)
        if step is QrStep.CLAIMS:
            assert result.get_step(QrStep.COSE).status is StepStatus.PASSED
        return
    failure = result.failure
    assert failure is not None, f"{name}: expected failure, every step passed"
    assert failure.reason in QR_REASONS and failure.message
    steps = list(QrStep)
    assert steps.index(failure.step) <= steps.index(step), (name, failure)


def _check_json(case: dict[str, Any], result: DecodedQr) -> None:
    assert result.claims is not None and result.claims.hcert is not None
    assert _as_json(result.claims.hcert) == case["JSON"]
    if "CBOR" in case and result.cose is not None:
        assert cbor2.loads(result.cose.payload)[-260][1] == cbor2.loads(bytes.fromhex(case["CBOR"]))


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False))


def _check_intermediates(case: dict[str, Any], result: DecodedQr) -> None:
    """Where the case gives an intermediate form and the decoder got that far, they agree."""
    if "COMPRESSED" in case and result.compressed is not None:
        assert result.compressed.hex() == case["COMPRESSED"].lower()
    if "COSE" in case and result.cose_bytes is not None:
        assert result.cose_bytes.hex() == case["COSE"].lower()


def _expectations() -> list[tuple[Path, str, bool]]:
    return [
        (path, name, value)
        for path in CASE_FILES
        for name, value in _load(path)["EXPECTEDRESULTS"].items()
    ]


@functools.cache
def _decoded(path: Path) -> DecodedQr:
    return _decode(_load(path))


pytestmark = pytest.mark.skipif(not CASE_FILES, reason=f"DCC vectors not found at {CASES_DIR}")


@pytest.mark.parametrize(
    ("path", "name", "expected"),
    _expectations(),
    ids=lambda v: v.stem if isinstance(v, Path) else str(v).removeprefix("EXPECTED"),
)
def test_dcc_step(path: Path, name: str, expected: bool) -> None:
    """One stated expectation of one case."""
    if name in NOT_IN_SCOPE:
        pytest.skip(NOT_IN_SCOPE[name])
    case, result = _load(path), _decoded(path)
    if name in STEP_OF:
        _check_step(name, expected, result)
    elif name == "EXPECTEDVALIDJSON":
        assert expected is True  # no case expects invalid JSON
        _check_json(case, result)
    elif name == "EXPECTEDPICTUREDECODE":
        _check_picture(case, expected)
    elif name == "EXPECTEDKEYUSAGE":
        assert result.ok, result.failure
        assert result.claims is not None and result.claims.hcert is not None
        certificate = load_certificate(base64.b64decode(case["TESTCTX"]["CERTIFICATE"]))
        assert is_dcc_key_usage_allowed(certificate, result.claims.hcert) is expected
    else:
        pytest.fail(f"unknown expectation {name}")


def _read_picture(png: bytes) -> str | None:
    """The text of the QR code in a picture (the optional ``qr-scan`` decoder, as `govchain
    health check pass.png` uses it), or None when there is no readable picture or code."""
    zxingcpp = pytest.importorskip("zxingcpp", reason="the qr-scan extra is not installed")
    image_module = pytest.importorskip("PIL.Image", reason="the qr-scan extra is not installed")
    try:
        with image_module.open(io.BytesIO(png)) as image:
            found = zxingcpp.read_barcodes(image)
    except (OSError, ValueError):
        return None
    return str(found[0].text) if found else None


def _check_picture(case: dict[str, Any], expected: bool) -> None:
    if "2DCODE" not in case:
        pytest.skip("the case carries no picture")
    text = _read_picture(base64.b64decode(case["2DCODE"]))
    assert (text == case["PREFIX"]) is expected, text


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_dcc_case_outcome(path: Path) -> None:
    """The whole decode: intermediate forms agree, and a failing case fails for its reason."""
    case, result = _load(path), _decoded(path)
    _check_intermediates(case, result)
    stated = set(case["EXPECTEDRESULTS"]) - set(NOT_IN_SCOPE)
    if path.stem in EXPECTED_REASON:
        assert result.reason == EXPECTED_REASON[path.stem], result.failure
    elif stated:
        assert result.ok, result.failure
    else:
        pytest.skip("the case states only out-of-scope steps")


def test_every_expectation_is_known() -> None:
    names = {n for path in CASE_FILES for n in _load(path)["EXPECTEDRESULTS"]}
    assert names <= set(STEP_OF) | set(NOT_IN_SCOPE) | CHECKED_HERE

"""The typed exception tree: stable codes, statuses, hints and RFC 7807 problem documents."""

from __future__ import annotations

import inspect

import pytest

import govchain.errors as errors
from govchain.errors import (
    AlreadyExists,
    BadSignature,
    ContractError,
    GovchainError,
    InvalidTransaction,
    MalformedTransaction,
    NotFound,
    NotFoundInState,
    ProofError,
    RootMismatch,
    Unauthorized,
    error_class_for_code,
)

ERROR_CLASSES: list[type[GovchainError]] = [
    obj
    for _, obj in inspect.getmembers(errors, inspect.isclass)
    if issubclass(obj, GovchainError) and obj.__module__ == errors.__name__
]
SHARED_CODES = {"NOT_FOUND": {NotFound, NotFoundInState}}


def test_every_error_class_is_exported() -> None:
    assert len(ERROR_CLASSES) >= 25
    for cls in ERROR_CLASSES:
        assert cls.__name__ in errors.__all__
        assert cls.__name__ in (errors.__doc__ or ""), f"{cls.__name__} missing from the tree"


def test_codes_are_unique_except_the_two_not_found() -> None:
    by_code: dict[str, set[type[GovchainError]]] = {}
    for cls in ERROR_CLASSES:
        by_code.setdefault(cls.code, set()).add(cls)
    shared = {code: classes for code, classes in by_code.items() if len(classes) > 1}
    assert shared == SHARED_CODES


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_class_metadata(cls: type[GovchainError]) -> None:
    assert cls.code.isupper() and " " not in cls.code
    assert cls.code.replace("_", "").isalnum()
    assert 400 <= cls.status <= 599
    assert cls.title and cls.title[0].isupper()
    assert cls.default_hint.strip().endswith((".", "`"))
    err = cls("something went wrong")
    assert str(err) == err.message == "something went wrong"
    assert err.hint == cls.default_hint
    assert err.details == {}


def test_status_families() -> None:
    assert issubclass(BadSignature, InvalidTransaction)
    assert issubclass(RootMismatch, ProofError)
    assert issubclass(Unauthorized, ContractError)
    for cls in ERROR_CLASSES:
        if issubclass(cls, InvalidTransaction | ContractError | ProofError):
            assert 400 <= cls.status < 500, cls
    assert errors.MempoolFull.status == 503
    assert errors.StorageError.status == 500


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_to_problem_is_rfc7807_shaped(cls: type[GovchainError]) -> None:
    err = cls("bad thing", hint="do this", height=7, tx_id="ab")
    problem = err.to_problem("/v1/txs/ab")
    assert problem == {
        "type": f"https://govchain.dev/errors/{cls.code}",
        "title": cls.title,
        "status": cls.status,
        "code": cls.code,
        "detail": "bad thing",
        "hint": "do this",
        "instance": "/v1/txs/ab",
        "details": {"height": 7, "tx_id": "ab"},
    }


def test_to_problem_omits_empty_members() -> None:
    problem = MalformedTransaction("garbage").to_problem()
    assert set(problem) == {"type", "title", "status", "code", "detail", "hint"}
    assert problem["hint"] == MalformedTransaction.default_hint


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_error_class_for_code_round_trips(cls: type[GovchainError]) -> None:
    found = error_class_for_code(cls.code)
    if cls.code in SHARED_CODES:
        assert found in SHARED_CODES[cls.code]
    else:
        assert found is cls


def test_error_class_for_code_fallbacks() -> None:
    assert error_class_for_code("NOT_FOUND") is NotFound  # API lookups win over state lookups
    assert error_class_for_code("NOTARY_NOT_OWNER") is ContractError  # contract-specific codes
    assert error_class_for_code("") is GovchainError


def test_contract_error_carries_its_own_code() -> None:
    err = AlreadyExists("dup", code="NOTARY_ALREADY_ANCHORED", hint="look it up")
    assert err.code == "NOTARY_ALREADY_ANCHORED"
    assert AlreadyExists.code == "ALREADY_EXISTS"  # the class is untouched
    assert err.status == 409
    problem = err.to_problem()
    assert problem["code"] == "NOTARY_ALREADY_ANCHORED"
    assert problem["type"].endswith("/NOTARY_ALREADY_ANCHORED")
    assert problem["hint"] == "look it up"
    assert ContractError("plain").code == "CONTRACT_ERROR"

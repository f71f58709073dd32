"""The health-pass credential types and their JSON Schemas (registered on chain by the health
commission with ``certs.register_schema``).

Subjects carry no more than a venue needs: the holder's DID (pseudonymous ``cit:``), the result or
the dose, and the time. ``name`` is optional and goes into a QR pass only if the holder asks.
"""

from __future__ import annotations

from typing import Any

from govchain.credentials.schema import DRAFT_2020_12

__all__ = [
    "HEALTH_PASS_TYPES",
    "HEALTH_SCHEMAS",
    "SCHEMA_VERSION",
    "TEST_RESULT",
    "TEST_RESULT_SCHEMA",
    "TEST_RESULTS",
    "TEST_TYPES",
    "VACCINATION",
    "VACCINATION_SCHEMA",
]

TEST_RESULT = "TestResult"
VACCINATION = "Vaccination"
HEALTH_PASS_TYPES = (TEST_RESULT, VACCINATION)
SCHEMA_VERSION = "1.0"
TEST_RESULTS = ("negative", "positive")
TEST_TYPES = ("PCR", "RAT")

_ID = {"type": "string", "pattern": "^did:govchain:[^:]+:cit:[0-9a-f]{32}$"}
_NAME = {"type": "string", "minLength": 1, "maxLength": 100}

TEST_RESULT_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT_2020_12,
    "type": "object",
    "required": ["id", "result", "testType", "sampleTime"],
    "additionalProperties": False,
    "properties": {
        "id": _ID,
        "name": _NAME,
        "result": {"enum": list(TEST_RESULTS)},
        "testType": {"enum": list(TEST_TYPES)},
        "sampleTime": {
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
        },
        "centre": {"type": "string", "maxLength": 64},
    },
}

VACCINATION_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT_2020_12,
    "type": "object",
    "required": ["id", "product", "doseNumber", "totalDoses", "date"],
    "additionalProperties": False,
    "properties": {
        "id": _ID,
        "name": _NAME,
        "product": {"type": "string", "minLength": 1, "maxLength": 64},
        "doseNumber": {"type": "integer", "minimum": 1, "maximum": 9},
        "totalDoses": {"type": "integer", "minimum": 1, "maximum": 9},
        "date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    },
}

HEALTH_SCHEMAS: dict[str, dict[str, Any]] = {
    TEST_RESULT: TEST_RESULT_SCHEMA,
    VACCINATION: VACCINATION_SCHEMA,
}

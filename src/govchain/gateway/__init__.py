"""Departments' data gateways: data leaves a department only under a grant on chain, sealed to
the requester's key, against an access receipt both sides sign and the chain anchors.

This package's root exports the pure parts shared by both sides (the wire format and the
errors); the server is in :mod:`govchain.gateway.app` (``govchain gateway start``) and the
requesting side in :mod:`govchain.client.gateway`. See ``docs/gateways.md``.
"""

from govchain.gateway.errors import (
    BadGatewayRequest,
    ChainUnavailable,
    DataSourceError,
    FieldsNotGranted,
    GatewayError,
    GrantExhausted,
    GrantExpired,
    GrantNotFound,
    GrantRevoked,
    NotGrantee,
    ReceiptBadSignature,
    ReceiptMismatch,
    ReceiptsOutstanding,
    ReceiptUnknown,
    RecordNotFound,
    ResponseInvalid,
    UnknownResource,
    WrongResource,
    WrongSubject,
)
from govchain.gateway.protocol import (
    CountersignRequest,
    EnvelopePayload,
    FetchAnswer,
    FetchRequest,
    open_envelope,
    seal_envelope,
)

__all__ = [
    "BadGatewayRequest",
    "ChainUnavailable",
    "CountersignRequest",
    "DataSourceError",
    "EnvelopePayload",
    "FetchAnswer",
    "FetchRequest",
    "FieldsNotGranted",
    "GatewayError",
    "GrantExhausted",
    "GrantExpired",
    "GrantNotFound",
    "GrantRevoked",
    "NotGrantee",
    "ReceiptBadSignature",
    "ReceiptMismatch",
    "ReceiptUnknown",
    "ReceiptsOutstanding",
    "RecordNotFound",
    "ResponseInvalid",
    "UnknownResource",
    "WrongResource",
    "WrongSubject",
    "open_envelope",
    "seal_envelope",
]

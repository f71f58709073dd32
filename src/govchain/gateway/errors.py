"""Why a data gateway refuses a request, or why its answer is not trusted.

Every refusal carries a stable ``code`` (clients switch on it), an HTTP ``status`` and a hint.
Request authentication reuses the signed-request errors of the node's API (``AUTH_MALFORMED``,
``AUTH_EXPIRED``, ``AUTH_BAD_SIGNATURE``, ``AUTH_REPLAYED``, ``AUTH_UNKNOWN_KEY``)::

    GovchainError
    └── GatewayError                    GATEWAY_ERROR
        ├── GrantNotFound               GATEWAY_GRANT_NOT_FOUND (404)
        ├── GrantExpired                GATEWAY_GRANT_EXPIRED (403)
        ├── GrantRevoked                GATEWAY_GRANT_REVOKED (403)
        ├── GrantExhausted              GATEWAY_GRANT_EXHAUSTED (403)
        ├── NotGrantee                  GATEWAY_NOT_GRANTEE (403)
        ├── WrongResource               GATEWAY_WRONG_RESOURCE (403)
        ├── WrongSubject                GATEWAY_WRONG_SUBJECT (403)
        ├── FieldsNotGranted            GATEWAY_FIELDS_NOT_GRANTED (403)
        ├── UnknownResource             GATEWAY_UNKNOWN_RESOURCE (404)
        ├── RecordNotFound              GATEWAY_RECORD_NOT_FOUND (404)
        ├── ReceiptsOutstanding         GATEWAY_RECEIPTS_OUTSTANDING (429)
        ├── ReceiptUnknown              GATEWAY_RECEIPT_UNKNOWN (404)
        ├── ReceiptMismatch             GATEWAY_RECEIPT_MISMATCH (409)
        ├── ReceiptBadSignature         GATEWAY_RECEIPT_BAD_SIGNATURE (400)
        ├── BadGatewayRequest           GATEWAY_BAD_REQUEST (400)
        ├── ResponseInvalid             GATEWAY_RESPONSE_INVALID (502)
        ├── ChainUnavailable            GATEWAY_CHAIN_UNAVAILABLE (503)
        └── DataSourceError             GATEWAY_DATA_SOURCE (500)
"""

from __future__ import annotations

from govchain.errors import GovchainError

__all__ = [
    "BadGatewayRequest",
    "ChainUnavailable",
    "DataSourceError",
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
]

_ASK_GRANT = (
    "Request access with `govchain share request`; once the owner approves (and the data "
    "subject consents, for personal data) use the grant id it gives."
)


class GatewayError(GovchainError):
    code = "GATEWAY_ERROR"
    status = 400
    title = "Data gateway refused the request"
    default_hint = "Read the message; `govchain share fetch` builds valid requests."


class GrantNotFound(GatewayError):
    code = "GATEWAY_GRANT_NOT_FOUND"
    status = 404
    title = "No such grant on chain"
    default_hint = _ASK_GRANT


class GrantExpired(GatewayError):
    code = "GATEWAY_GRANT_EXPIRED"
    status = 403
    title = "Grant expired"
    default_hint = "Ask the owning organisation for a new grant."


class GrantRevoked(GatewayError):
    code = "GATEWAY_GRANT_REVOKED"
    status = 403
    title = "Grant revoked"
    default_hint = "The owner (or the data subject) revoked this grant; request access again."


class GrantExhausted(GatewayError):
    code = "GATEWAY_GRANT_EXHAUSTED"
    status = 403
    title = "Grant used up"
    default_hint = "Every use this grant allows has been spent; request a new grant."


class NotGrantee(GatewayError):
    code = "GATEWAY_NOT_GRANTEE"
    status = 403
    title = "Not the grantee"
    default_hint = (
        "Sign with an active key of the identity the grant was given to (for an organisation, "
        "a member's key)."
    )


class WrongResource(GatewayError):
    code = "GATEWAY_WRONG_RESOURCE"
    status = 403
    title = "Resource outside the grant"
    default_hint = "A grant covers one catalogue resource; ask for the one it names."


class WrongSubject(GatewayError):
    code = "GATEWAY_WRONG_SUBJECT"
    status = 403
    title = "Data subject outside the grant"
    default_hint = "This grant covers one data subject's record; ask for that subject only."


class FieldsNotGranted(GatewayError):
    code = "GATEWAY_FIELDS_NOT_GRANTED"
    status = 403
    title = "Fields outside the grant"
    default_hint = "Ask only for fields the grant lists (`govchain share grant show ID`)."


class UnknownResource(GatewayError):
    code = "GATEWAY_UNKNOWN_RESOURCE"
    status = 404
    title = "Resource not served here"
    default_hint = "The catalogue entry names the gateway that serves each resource."


class RecordNotFound(GatewayError):
    code = "GATEWAY_RECORD_NOT_FOUND"
    status = 404
    title = "No such record"
    default_hint = "Check the data subject's id; nothing was returned and no use was counted."


class ReceiptsOutstanding(GatewayError):
    code = "GATEWAY_RECEIPTS_OUTSTANDING"
    status = 429
    title = "Too many receipts not counter-signed"
    default_hint = (
        "Counter-sign the access receipts of earlier answers (POST /v1/receipts; "
        "`govchain share fetch` does this) before asking for more."
    )


class ReceiptUnknown(GatewayError):
    code = "GATEWAY_RECEIPT_UNKNOWN"
    status = 404
    title = "Unknown access receipt"
    default_hint = "Counter-sign the receipt this gateway returned with the data, unchanged."


class ReceiptMismatch(GatewayError):
    code = "GATEWAY_RECEIPT_MISMATCH"
    status = 409
    title = "Access receipt altered"
    default_hint = "Counter-sign the receipt exactly as the gateway returned it."


class ReceiptBadSignature(GatewayError):
    code = "GATEWAY_RECEIPT_BAD_SIGNATURE"
    status = 400
    title = "Bad access receipt signature"
    default_hint = "Sign receipt_sign_bytes(receipt) with the key that signed the request."


class BadGatewayRequest(GatewayError):
    code = "GATEWAY_BAD_REQUEST"
    status = 400
    title = "Malformed gateway request"
    default_hint = "Build requests with govchain.client.gateway.GatewayClient or the CLI."


class ResponseInvalid(GatewayError):
    code = "GATEWAY_RESPONSE_INVALID"
    status = 502
    title = "The gateway's answer does not check out"
    default_hint = (
        "Do not use the data: the owner's receipt, signature or envelope is wrong. "
        "Report it to the owning organisation."
    )


class ChainUnavailable(GatewayError):
    code = "GATEWAY_CHAIN_UNAVAILABLE"
    status = 503
    title = "Cannot check the grant on chain"
    default_hint = "The gateway's node is unreachable or answered an unproven state; retry later."


class DataSourceError(GatewayError):
    code = "GATEWAY_DATA_SOURCE"
    status = 500
    title = "Data source error"
    default_hint = "The department's database failed; its operator should read the gateway log."

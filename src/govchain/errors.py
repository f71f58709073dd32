"""The typed exception tree.

Every rejection that reaches a user is one of these classes. Each carries a stable ``code``
(part of the public API: clients switch on it), an HTTP ``status`` used by the API layer, and a
``hint`` sentence that tells the user what to do next. Messages say what went wrong; hints say
what to do about it.

    GovchainError
    ├── InvalidTransaction          rejected at admission or by block validation
    │   ├── MalformedTransaction    TX_MALFORMED
    │   ├── OversizedTransaction    TX_TOO_LARGE
    │   ├── WrongChainId            TX_WRONG_CHAIN
    │   ├── BadSignature            TX_BAD_SIGNATURE
    │   ├── MissingSignature        TX_MISSING_SIGNATURE
    │   ├── UnknownSender           TX_UNKNOWN_SENDER
    │   ├── ReplayedTransaction     TX_REPLAYED
    │   ├── ExpiredTransaction      TX_EXPIRED
    │   ├── UnknownContract         TX_UNKNOWN_CONTRACT
    │   ├── UnknownMethod           TX_UNKNOWN_METHOD
    │   ├── InvalidArguments        TX_INVALID_ARGS
    │   └── NodeNotActive           NODE_NOT_ACTIVE
    ├── MempoolFull                 MEMPOOL_FULL
    ├── ContractError               contract-specific codes, recorded in failed receipts
    │   ├── Unauthorized            UNAUTHORIZED
    │   ├── AlreadyExists           ALREADY_EXISTS
    │   └── NotFoundInState         NOT_FOUND
    ├── ProofError                  a proof does not check out
    │   ├── MalformedProof          PROOF_MALFORMED
    │   ├── RootMismatch            PROOF_ROOT_MISMATCH
    │   └── WrongProofKind          PROOF_WRONG_KIND
    ├── InvalidBlock                a stored or received block does not check out
    ├── NotFound                    NOT_FOUND (API lookups)
    ├── UnknownView                 QUERY_UNKNOWN_VIEW
    ├── BadRequest                  BAD_REQUEST
    ├── AuthError                   an API request is not authenticated or not allowed
    │   ├── AuthRequired            AUTH_REQUIRED (401)
    │   ├── AuthMalformed           AUTH_MALFORMED (401)
    │   ├── AuthExpired             AUTH_EXPIRED (401)
    │   ├── AuthReplayed            AUTH_REPLAYED (401)
    │   ├── AuthBadSignature        AUTH_BAD_SIGNATURE (401)
    │   ├── AuthUnknownKey          AUTH_UNKNOWN_KEY (401)
    │   ├── AuthForbidden           AUTH_FORBIDDEN (403)
    │   └── AuthThrottled           AUTH_THROTTLED (503)
    ├── ConfigError                 CONFIG_INVALID
    └── StorageError                STORAGE_ERROR
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AlreadyExists",
    "AuthBadSignature",
    "AuthError",
    "AuthExpired",
    "AuthForbidden",
    "AuthMalformed",
    "AuthReplayed",
    "AuthRequired",
    "AuthThrottled",
    "AuthUnknownKey",
    "BadRequest",
    "BadSignature",
    "ConfigError",
    "ContractError",
    "ExpiredTransaction",
    "GovchainError",
    "InvalidArguments",
    "InvalidBlock",
    "InvalidTransaction",
    "MalformedProof",
    "MalformedTransaction",
    "MempoolFull",
    "MissingSignature",
    "NodeNotActive",
    "NotFound",
    "NotFoundInState",
    "OversizedTransaction",
    "ProofError",
    "ReplayedTransaction",
    "RootMismatch",
    "StorageError",
    "Unauthorized",
    "UnknownContract",
    "UnknownMethod",
    "UnknownSender",
    "UnknownView",
    "WrongChainId",
    "WrongProofKind",
    "error_class_for_code",
]


class GovchainError(Exception):
    """Base of every error govchain raises on purpose."""

    code: ClassVar[str] = "GOVCHAIN_ERROR"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    default_hint: ClassVar[str] = "This is a bug or an operational fault; check the node's log."

    def __init__(self, message: str, *, hint: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint
        self.details = details

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """An RFC 7807 problem document for this error."""
        problem: dict[str, Any] = {
            "type": f"https://govchain.dev/errors/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.message,
            "hint": self.hint,
        }
        if instance:
            problem["instance"] = instance
        if self.details:
            problem["details"] = self.details
        return problem


# --- transactions -------------------------------------------------------------------------------


class InvalidTransaction(GovchainError):
    code = "TX_INVALID"
    status = 400
    title = "Invalid transaction"
    default_hint = "Fix the transaction and submit it again."


class MalformedTransaction(InvalidTransaction):
    code = "TX_MALFORMED"
    title = "Malformed transaction"
    default_hint = (
        "Build transactions with the govchain SDK or CLI; the body must be the canonical "
        "MessagePack encoding of a transaction."
    )


class OversizedTransaction(InvalidTransaction):
    code = "TX_TOO_LARGE"
    status = 413
    title = "Transaction too large"
    default_hint = "Keep documents off chain and anchor their hash instead."


class WrongChainId(InvalidTransaction):
    code = "TX_WRONG_CHAIN"
    title = "Wrong chain id"
    default_hint = "Sign the transaction for this node's chain id (GET /v1/status shows it)."


class BadSignature(InvalidTransaction):
    code = "TX_BAD_SIGNATURE"
    status = 401
    title = "Bad signature"
    default_hint = "Sign the exact transaction body with the sender's private key."


class MissingSignature(InvalidTransaction):
    code = "TX_MISSING_SIGNATURE"
    status = 401
    title = "Missing signature"
    default_hint = "The sender must sign the transaction."


class UnknownSender(InvalidTransaction):
    code = "TX_UNKNOWN_SENDER"
    status = 403
    title = "Unknown sender"
    default_hint = (
        "Only keys registered on this chain may send transactions; "
        "ask your organisation's admin to enrol your key."
    )


class ReplayedTransaction(InvalidTransaction):
    code = "TX_REPLAYED"
    status = 409
    title = "Transaction replayed"
    default_hint = "This transaction is already known; build a new one with a fresh nonce."


class ExpiredTransaction(InvalidTransaction):
    code = "TX_EXPIRED"
    title = "Transaction expired or too far in the future"
    default_hint = (
        "Set valid_until between the current height and the chain's maximum lifetime; "
        "the SDK does this."
    )


class UnknownContract(InvalidTransaction):
    code = "TX_UNKNOWN_CONTRACT"
    status = 404
    title = "Unknown contract"
    default_hint = "GET /v1/contracts lists the contracts this chain runs."


class UnknownMethod(InvalidTransaction):
    code = "TX_UNKNOWN_METHOD"
    status = 404
    title = "Unknown method"
    default_hint = "GET /v1/contracts lists each contract's methods and their arguments."


class UnknownView(GovchainError):
    code = "QUERY_UNKNOWN_VIEW"
    status = 404
    title = "Unknown view"
    default_hint = "GET /v1/contracts lists each contract's read-only views."


class InvalidArguments(InvalidTransaction):
    code = "TX_INVALID_ARGS"
    title = "Invalid arguments"
    default_hint = "GET /v1/contracts lists each method's arguments and their types."


class NodeNotActive(InvalidTransaction):
    code = "NODE_NOT_ACTIVE"
    status = 421  # misdirected: another peer takes it
    title = "The node is not an active node of the chain"
    default_hint = (
        "Submit to another peer. A new organisation's peer orders transactions once governance "
        "has added its node (`govchain gov propose add-node`, then the founders' votes); a "
        "removed node no longer does."
    )


class MempoolFull(GovchainError):
    code = "MEMPOOL_FULL"
    status = 503
    title = "Mempool full"
    default_hint = "The node is at capacity; retry after the delay in the Retry-After header."


# --- contracts -----------------------------------------------------------------------------------


class ContractError(GovchainError):
    """Raised by a contract; the transaction is committed with a failed receipt."""

    code = "CONTRACT_ERROR"
    status = 422
    title = "Contract rejected the transaction"
    default_hint = "Read the receipt's message; the transaction was recorded but changed nothing."

    def __init__(
        self, message: str, *, code: str | None = None, hint: str | None = None, **details: Any
    ) -> None:
        super().__init__(message, hint=hint, **details)
        if code is not None:
            self.code = code  # type: ignore[misc]


class Unauthorized(ContractError):
    code = "UNAUTHORIZED"
    status = 403
    title = "Not authorised"
    default_hint = "Sign with a key that holds the required role."


class AlreadyExists(ContractError):
    code = "ALREADY_EXISTS"
    status = 409
    title = "Already exists"
    default_hint = "Look up the existing record instead of creating it again."


class NotFoundInState(ContractError):
    code = "NOT_FOUND"
    status = 404
    title = "Not found"
    default_hint = "Check the identifier."


# --- proofs and blocks ---------------------------------------------------------------------------


class ProofError(GovchainError):
    code = "PROOF_INVALID"
    status = 400
    title = "Invalid proof"
    default_hint = "Do not trust the data this proof was meant to support; ask another node."


class MalformedProof(ProofError):
    code = "PROOF_MALFORMED"
    title = "Malformed proof"


class RootMismatch(ProofError):
    code = "PROOF_ROOT_MISMATCH"
    title = "Proof does not lead to the trusted root"


class WrongProofKind(ProofError):
    code = "PROOF_WRONG_KIND"
    title = "Proof of the wrong kind"


class InvalidBlock(GovchainError):
    code = "BLOCK_INVALID"
    status = 400
    title = "Invalid block"
    default_hint = "The ledger is inconsistent from this block on; restore it from a trusted copy."


# --- API and operations --------------------------------------------------------------------------


class NotFound(GovchainError):
    code = "NOT_FOUND"
    status = 404
    title = "Not found"
    default_hint = "Check the height, hash or key; GET /v1/status shows the current height."


class BadRequest(GovchainError):
    code = "BAD_REQUEST"
    status = 400
    title = "Bad request"
    default_hint = "See the OpenAPI document at /schema for the expected request."


# --- API authentication --------------------------------------------------------------------------

_SIGN_HINT = (
    "Sign the request (the SDK and CLI do this when given a key: "
    "`--dir DIR --org ORG` or `--key FILE`)."
)


class AuthError(GovchainError):
    """A request to the API is not authenticated (401) or not allowed (403); see
    ``docs/api.md`` for the signed-request scheme."""

    code = "AUTH_ERROR"
    status = 401
    title = "Not authenticated"
    default_hint = _SIGN_HINT


class AuthRequired(AuthError):
    code = "AUTH_REQUIRED"
    title = "Authentication required"


class AuthMalformed(AuthError):
    code = "AUTH_MALFORMED"
    title = "Malformed Authorization header"
    default_hint = (
        "Send `Authorization: Govchain-Ed25519 key=<hex>, ts=<unix ms>, nonce=<32 hex>, "
        "sig=<hex>`; the SDK and CLI build it."
    )


class AuthExpired(AuthError):
    code = "AUTH_EXPIRED"
    title = "Request timestamp outside the allowed window"
    default_hint = "Synchronise this machine's clock (NTP) and send the request again."


class AuthReplayed(AuthError):
    code = "AUTH_REPLAYED"
    title = "Request replayed"
    default_hint = "Sign every request with a fresh random nonce; the SDK does this."


class AuthBadSignature(AuthError):
    code = "AUTH_BAD_SIGNATURE"
    title = "Bad request signature"
    default_hint = (
        "Sign the canonical request (method, path with sorted query, timestamp, nonce and the "
        "body's SHA-256) with the key named in the header; the SDK does this."
    )


class AuthUnknownKey(AuthError):
    code = "AUTH_UNKNOWN_KEY"
    title = "Unknown or inactive key"
    default_hint = (
        "Sign with a key that is registered and active on this chain; "
        "ask your organisation's admin to enrol it."
    )


class AuthForbidden(AuthError):
    code = "AUTH_FORBIDDEN"
    status = 403
    title = "Forbidden"
    default_hint = "Ask your organisation's admin for a role that may read this."


class AuthThrottled(AuthError):
    code = "AUTH_THROTTLED"
    status = 503
    title = "Too many signed requests"
    default_hint = "The node is at capacity; retry after the delay in the Retry-After header."


class ConfigError(GovchainError):
    code = "CONFIG_INVALID"
    status = 500
    title = "Invalid configuration"
    default_hint = "Recreate the network directory with `govchain init` or fix the named file."


class StorageError(GovchainError):
    code = "STORAGE_ERROR"
    status = 500
    title = "Storage error"
    default_hint = "Check disk space and permissions; then run `govchain verify`."


def _all_subclasses(cls: type[GovchainError]) -> list[type[GovchainError]]:
    out = [cls]
    for sub in cls.__subclasses__():
        out.extend(_all_subclasses(sub))
    return out


def error_class_for_code(code: str) -> type[GovchainError]:
    """The most specific error class with this code (the SDK maps API problems back to types)."""
    for cls in reversed(_all_subclasses(GovchainError)):
        if cls.code == code:
            return cls
    return ContractError if code else GovchainError

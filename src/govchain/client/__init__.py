"""The Python SDK."""

from govchain.client.auth import RequestSigner, sign_request
from govchain.client.sdk import Client, TxOutcome
from govchain.client.tx import add_signature, build_tx, coerce_args, tx_id_of
from govchain.client.verify import (
    TrustAnchor,
    verify_finality_certificate,
    verify_header,
    verify_state_answer,
    verify_tx_answer,
)

__all__ = [
    "Client",
    "RequestSigner",
    "TrustAnchor",
    "TxOutcome",
    "add_signature",
    "build_tx",
    "coerce_args",
    "sign_request",
    "tx_id_of",
    "verify_finality_certificate",
    "verify_header",
    "verify_state_answer",
    "verify_tx_answer",
]

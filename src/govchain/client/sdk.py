"""The Python SDK: talk to a node over HTTP, verify what it answers.

>>> from govchain.client import Client
>>> client = Client("http://127.0.0.1:8700", key=key)
>>> record = client.notarize(key, Path("contract.pdf"), title="Lease", owner_org="tax")

With ``key``, every request is signed (``Authorization: Govchain-Ed25519 ...``, see
``docs/api.md``): members of organisations read blocks, state, events and queries; anyone reads
the transactions their key signed. Without a key only the public routes answer (status,
organisations, contracts, notary look-ups, submitting transactions); the others raise
:class:`govchain.errors.AuthRequired`.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import httpx
import msgspec

from govchain.client.auth import RequestSigner
from govchain.client.tx import build_tx, coerce_args
from govchain.client.verify import (
    FinalityMissing,
    TrustAnchor,
    get_answer_certificate,
    verify_finality_certificate,
    verify_header,
    verify_state_answer,
    verify_tx_answer,
)
from govchain.contracts import default_registry
from govchain.contracts.certs_records import anchor_state_key, status_state_key
from govchain.contracts.did import parse_did
from govchain.contracts.notary import AnchorArgs, notary_state_key
from govchain.credentials.vc import compute_credential_hash
from govchain.crypto.signing import KeyPair
from govchain.errors import (
    AuthRequired,
    ContractError,
    GovchainError,
    RootMismatch,
    error_class_for_code,
)
from govchain.types.finality import FinalityCertificate, FinalityMismatch

__all__ = ["Client", "TxOutcome"]

DEFAULT_LIFETIME = 300


class TxOutcome(msgspec.Struct):
    tx_id: str
    status: str  # committed | rejected | pending
    ok: bool
    height: int | None
    code: str
    message: str
    hint: str
    result: Any
    answer: dict[str, Any]


class Client:
    """A node's API. Every proof in an answer is verified locally (pass ``trust`` to also check
    block signatures against the chain's trust anchor). With ``key`` every request is signed
    with it; without, only public routes answer. ``verify`` checks an HTTPS node's certificate:
    the path of the network's CA file, an SSL context, or the default trust store (which the
    ``SSL_CERT_FILE`` environment variable can name)."""

    def __init__(
        self,
        url: str = "http://127.0.0.1:8700",
        *,
        key: KeyPair | None = None,
        trust: TrustAnchor | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        verify: ssl.SSLContext | str | bool = True,
    ) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.trust = trust
        self.auth: RequestSigner | None = RequestSigner(key) if key is not None else None
        self._transport = transport
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            auth=self.auth,
            verify=ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify,
        )
        self._chain_id: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """``GET path`` (e.g. ``"/v1/services"``) with the query ``params``: the decoded JSON
        answer.

        For routes without a method of their own; the SDK's service modules
        (:mod:`govchain.client.catalog`, :mod:`govchain.client.services`, ...) are built on it.
        Signed when the client has a key. Raises as every method does: an error answer as the
        typed error of its problem ``code`` (:class:`~govchain.errors.AuthRequired`,
        :class:`~govchain.errors.NotFound`, ...), an unreachable node as
        :class:`~govchain.errors.GovchainError`. Nothing in the answer is verified: check its
        proofs with :mod:`govchain.client.verify`.
        """
        return self._request("GET", path, params=params)

    def post(self, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """``POST path`` with the JSON body ``json`` (none when ``None``) and the query
        ``params``; the decoded JSON answer. Signed, raising and unverified like :meth:`get`.
        Transactions are submitted with :meth:`submit`, not posted."""
        return self._request("POST", path, json=json, params=params)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise GovchainError(
                f"cannot reach {self.url}: {exc}",
                hint="Is the node running? `govchain node start --dir DIR`.",
            ) from exc
        if response.status_code >= 400:
            raise self._error(response)
        return response.json()

    def _error(self, response: httpx.Response) -> GovchainError:
        err = _problem_to_error(response)
        if isinstance(err, AuthRequired) and self.key is None:
            err.hint = (
                "This read needs a key: Client(url, key=load_key(path)) in Python; "
                "--key FILE, --dir DIR --org ORG or env GOVCHAIN_KEY on the command line."
            )
        return err

    @property
    def chain_id(self) -> str:
        if self._chain_id is None:
            self._chain_id = self.status()["chain_id"]
        return self._chain_id

    # --- reads -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self._request("GET", "/v1/status"))

    def block(self, height: int | str = "latest", *, full: bool = False) -> dict[str, Any]:
        answer: dict[str, Any] = self._request("GET", f"/v1/blocks/{height}", params={"full": full})
        self._check_block_header(answer["header"])
        return answer

    def block_by_hash(self, block_hash: str, *, full: bool = False) -> dict[str, Any]:
        answer: dict[str, Any] = self._request(
            "GET", f"/v1/blocks/hash/{block_hash}", params={"full": full}
        )
        self._check_block_header(answer["header"])
        if answer["header"]["hash"] != block_hash:
            raise RootMismatch("the node answered with another block than the one asked for")
        return answer

    def _check_block_header(self, view: dict[str, Any]) -> None:
        """Verify a block answer's header; when it must be trusted on a certificate (unsigned,
        or the trust anchor requires finality), the block's certificate is fetched for it."""
        trust, cert = self.trust, None
        needs_cert = trust is not None and (
            trust.require_finality or not view["proposer_signature"]
        )
        if needs_cert and trust is not None and trust.peers and view["height"] > 0:
            cert = self.get_finality(view["height"])
        verify_header(view, trust, cert)

    def tx(self, tx_id: str | bytes, *, wait_ms: int = 0, verify: bool = True) -> dict[str, Any]:
        """A transaction's fate; a committed one's inclusion proofs are verified."""
        tid = tx_id.hex() if isinstance(tx_id, bytes) else tx_id
        answer: dict[str, Any] = self._request("GET", f"/v1/txs/{tid}", params={"wait_ms": wait_ms})
        if verify and answer["status"] == "committed":
            verify_tx_answer(answer, self.trust)
        if verify and answer["tx_id"] != tid.lower():
            raise RootMismatch("the node answered about another transaction than the one asked for")
        return answer

    def state(
        self, key: bytes, *, height: int | None = None, final: bool = False, verify: bool = True
    ) -> dict[str, Any]:
        """A state value (or its absence) with its proof, verified against the block's root;
        with ``final`` at the latest finalized height, the answer carrying the block's finality
        certificate (verified, and required, with a trust anchor)."""
        params = _read_params(height, final)
        answer: dict[str, Any] = self._request("GET", f"/v1/state/{key.hex()}", params=params)
        if verify:
            self._check_state(answer, final)
            if answer["key"] != key.hex():
                raise RootMismatch("the node proved another key than the one asked for")
        return answer

    def notary(
        self, doc_hash: bytes, *, height: int | None = None, final: bool = False
    ) -> dict[str, Any]:
        """A document's anchor, with the state proof verified (``final`` as for :meth:`state`)."""
        params = _read_params(height, final)
        answer: dict[str, Any] = self._request("GET", f"/v1/notary/{doc_hash.hex()}", params=params)
        state = answer["state"]
        if bytes.fromhex(state["key"]) != notary_state_key(doc_hash):
            raise GovchainError("the node proved a different key than the one asked for")
        self._check_state(state, final)
        return answer

    def _check_state(self, answer: dict[str, Any], final: bool) -> None:
        if final and self.trust is not None and answer.get("finality") is None:
            raise FinalityMissing(
                f"the node answered final=true at height {answer['height']} without a finality "
                "certificate",
                hint="Ask another node: this one claims a final block it cannot certify.",
            )
        verify_state_answer(answer, self.trust)

    def query(
        self,
        contract: str,
        view: str,
        args: dict[str, Any] | None = None,
        *,
        height: int | None = None,
    ) -> Any:
        """Run a contract's read-only view (bytes arguments as ``bytes`` or ``"hex:..."``).
        The answer is the node's word: for proven values use :meth:`state`."""
        payload = {
            k: "hex:" + v.hex() if isinstance(v, bytes) else v for k, v in (args or {}).items()
        }
        params = {"height": height} if height is not None else {}
        return self._request("POST", f"/v1/query/{contract}/{view}", json=payload, params=params)

    def contracts(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", self._request("GET", "/v1/contracts"))

    def orgs(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", self._request("GET", "/v1/orgs"))

    def events(
        self, from_height: int | None = None, *, full: bool = False, timeout: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Committed blocks as they come (resumable from a height)."""
        for kind, data in self.stream(from_height, full=full, timeout=timeout):
            if kind == "block":
                yield data

    def stream(
        self,
        from_height: int | None = None,
        *,
        full: bool = False,
        txs: bool = False,
        events: bool = False,
        contract: str | None = None,
        timeout: float | None = None,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(kind, data)`` pairs: ``block`` for each block, and with ``txs``/``events`` a ``tx``
        per transaction and an ``event`` per contract event (of ``contract`` only, if given)."""
        from httpx_sse import connect_sse

        params: dict[str, Any] = {"full": full, "txs": txs, "events": events}
        if from_height is not None:
            params["from_height"] = from_height
        if contract is not None:
            params["contract"] = contract
        with (
            httpx.Client(
                base_url=self.url,
                timeout=httpx.Timeout(timeout, connect=5),
                auth=self.auth,
                transport=self._transport,
            ) as http,
            connect_sse(http, "GET", "/v1/events", params=params) as source,
        ):
            if source.response.status_code >= 400:
                source.response.read()
                raise self._error(source.response)
            for event in source.iter_sse():
                if event.event in ("block", "tx", "event"):
                    yield event.event, msgspec.json.decode(event.data)

    # --- writes ----------------------------------------------------------------------------

    def build(
        self,
        key: KeyPair,
        contract: str,
        method: str,
        args: Any,
        *,
        lifetime: int = DEFAULT_LIFETIME,
    ) -> bytes:
        """Build and sign a transaction for this node's chain."""
        args_type = default_registry().get_method(contract, method).args_type
        height = self.status()["height"]
        return build_tx(
            key,
            chain_id=self.chain_id,
            contract=contract,
            method=method,
            args=coerce_args(args_type, args),
            valid_until=height + lifetime,
        )

    def submit(self, raw: bytes) -> str:
        """Submit one signed transaction; returns its id once admitted."""
        answer = self._request("POST", "/v1/txs", json={"tx": base64.b64encode(raw).decode()})
        return str(answer["tx_id"])

    def submit_batch(self, raws: Sequence[bytes]) -> dict[str, Any]:
        """Submit many; each item of ``results`` says pending or rejected with its error."""
        payload = {"txs": [base64.b64encode(r).decode() for r in raws]}
        answer: dict[str, Any] = self._request("POST", "/v1/txs/batch", json=payload)
        return answer

    def wait(self, tx_id: str, timeout: float = 30.0) -> TxOutcome:
        """Wait for a transaction's fate and verify its proofs."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            answer = self.tx(tx_id, wait_ms=int(max(0.0, min(left, 10.0)) * 1000))
            if answer["status"] != "pending" or left <= 0:
                return _outcome(answer)

    def send(
        self,
        key: KeyPair,
        contract: str,
        method: str,
        args: Any,
        *,
        timeout: float = 30.0,
        check: bool = True,
    ) -> TxOutcome:
        """Build, sign, submit and wait. With ``check``, a failed receipt raises its error."""
        outcome = self.wait(self.submit(self.build(key, contract, method, args)), timeout)
        if check and outcome.status == "committed" and not outcome.ok:
            raise _problem_dict_to_error(
                {"code": outcome.code, "detail": outcome.message, "hint": outcome.hint}
            )
        if check and outcome.status == "rejected":
            raise _problem_dict_to_error(outcome.answer["error"])
        return outcome

    def notarize(
        self,
        key: KeyPair,
        document: Path | bytes,
        *,
        title: str,
        owner_org: str,
        expires_at_ms: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> TxOutcome:
        """Anchor a file (or raw bytes) by its SHA-256."""
        data = document.read_bytes() if isinstance(document, Path) else document
        args = AnchorArgs(
            hashlib.sha256(data).digest(), title, owner_org, expires_at_ms, metadata or {}
        )
        return self.send(key, "notary", "anchor", args)

    # --- identity ---------------------------------------------------------------------------

    def resolve_did(self, did: str, height: int | None = None) -> dict[str, Any]:
        """A DID's resolution result (``didDocument``, ``didDocumentMetadata``,
        ``didResolutionMetadata``), optionally as of a height."""
        params = {"height": height} if height is not None else {}
        return cast("dict[str, Any]", self._request("GET", f"/v1/dids/{did}", params=params))

    def org(self, org: str) -> dict[str, Any]:
        """An organisation's record (public)."""
        return cast("dict[str, Any]", self._request("GET", f"/v1/orgs/{org}"))

    def identity(self, identity_id: str) -> dict[str, Any]:
        """An identity's record (an organisation's is public)."""
        return cast("dict[str, Any]", self._request("GET", f"/v1/identities/{identity_id}"))

    def members(self, org: str) -> list[dict[str, Any]]:
        """An organisation's members and nodes (for members of organisations)."""
        return cast("list[dict[str, Any]]", self._request("GET", f"/v1/orgs/{org}/members"))

    # --- certificates -----------------------------------------------------------------------

    def credential_schema(self, credential_type: str, version: str | None = None) -> dict[str, Any]:
        """A credential type's schema record (a version, or the latest); public."""
        params = {"version": version} if version is not None else {}
        path = f"/v1/credentials/schemas/{credential_type}"
        return cast("dict[str, Any]", self._request("GET", path, params=params))

    def verify_credential(
        self, credential: dict[str, Any], *, at_ms: int | None = None
    ) -> dict[str, Any]:
        """The node's named checks of a secured credential; the anchor's and status's state
        proofs in the answer are verified here."""
        body: dict[str, Any] = {"credential": credential}
        if at_ms is not None:
            body["at_ms"] = at_ms
        answer: dict[str, Any] = self._request("POST", "/v1/credentials/verify", json=body)
        if answer.get("credential_hash"):
            _check_cert_proofs(answer, bytes.fromhex(answer["credential_hash"]), self.trust)
        return answer

    def credential_status(self, credential_hash: bytes | str) -> dict[str, Any]:
        """A credential's anchor and status with their state proofs, verified here."""
        raw = credential_hash
        if isinstance(raw, str):
            raw = bytes.fromhex(raw)
        answer: dict[str, Any] = self._request("GET", f"/v1/credentials/{raw.hex()}")
        _check_cert_proofs(answer, raw, self.trust)
        return answer

    def credential_bundle(self, credential: dict[str, Any] | bytes | str) -> dict[str, Any]:
        """The offline verification bundle of a credential (its hash, or the credential itself,
        which is then put in the bundle and names the signing member whose record is proven).
        Public. Check it with :func:`govchain.client.offline.verify_bundle`."""
        params: dict[str, str] = {}
        if isinstance(credential, dict):
            digest = compute_credential_hash(credential)
            method = str((credential.get("proof") or {}).get("verificationMethod", ""))
            params["member"] = parse_did(method.partition("#")[0])[1]
        else:
            digest = bytes.fromhex(credential) if isinstance(credential, str) else credential
        path = f"/v1/credentials/{digest.hex()}/bundle"
        answer: dict[str, Any] = self._request("GET", path, params=params)
        if isinstance(credential, dict):
            answer["credential"] = credential
        return answer

    def status_list(self, org: str, purpose: str = "revocation") -> dict[str, Any]:
        """An organisation's unsigned status list credential with the state root it reflects."""
        path = f"/v1/credentials/status-lists/{org}/{purpose}"
        return cast("dict[str, Any]", self._request("GET", path))

    # --- finality --------------------------------------------------------------------------

    def get_finality(self, height: int) -> FinalityCertificate:
        """Block ``height``'s finality certificate, decoded from its raw bytes and, when the
        trust anchor names the founding peers (``TrustAnchor.from_genesis``), verified against
        them. Raises :class:`~govchain.types.finality.CertificateNotFound` while the block is
        not finalized."""
        answer: dict[str, Any] = self._request("GET", f"/v1/blocks/{height}/finality")
        return self._check_finality(answer, height)

    def get_finality_status(self) -> dict[str, Any]:
        """The node's finalized height, its latest certificate (verified like
        :meth:`get_finality`) and the divergence it reports, if any."""
        answer: dict[str, Any] = self._request("GET", "/v1/finality")
        if answer["latest"] is not None:
            self._check_finality(answer["latest"], answer["finalized_height"])
        return answer

    def _check_finality(self, answer: dict[str, Any], height: int) -> FinalityCertificate:
        if self.trust is not None and self.trust.peers:
            cert = verify_finality_certificate(answer, self.trust)
        else:
            cert = get_answer_certificate(answer)
        if cert.height != height:
            raise FinalityMismatch(f"the node answered with the certificate of block {cert.height}")
        return cert


def _read_params(height: int | None, final: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"height": height} if height is not None else {}
    if final:
        params["final"] = True
    return params


def _check_cert_proofs(
    answer: dict[str, Any], credential_hash: bytes, trust: TrustAnchor | None
) -> None:
    for name, key in (
        ("anchor_state", anchor_state_key(credential_hash)),
        ("status_state", status_state_key(credential_hash)),
    ):
        state = answer.get(name)
        if state is None:
            continue
        if bytes.fromhex(state["key"]) != key:
            raise RootMismatch(f"the node proved another key than the credential's {name}")
        verify_state_answer(state, trust)


def _outcome(answer: dict[str, Any]) -> TxOutcome:
    receipt = answer.get("receipt") or {}
    error = answer.get("error") or {}
    return TxOutcome(
        answer["tx_id"],
        answer["status"],
        bool(receipt.get("ok")),
        answer.get("height"),
        receipt.get("code") or error.get("code", ""),
        receipt.get("message") or error.get("detail", ""),
        receipt.get("hint") or error.get("hint", ""),
        receipt.get("result"),
        answer,
    )


def _problem_dict_to_error(problem: dict[str, Any]) -> GovchainError:
    cls = error_class_for_code(problem.get("code", ""))
    if issubclass(cls, ContractError):
        err: GovchainError = ContractError(
            problem.get("detail", ""), code=problem.get("code"), hint=problem.get("hint")
        )
    else:
        err = cls(problem.get("detail", ""), hint=problem.get("hint"))
    err.details = problem.get("details") or {}
    return err


def _problem_to_error(response: httpx.Response) -> GovchainError:
    try:
        problem = response.json()
    except ValueError:
        problem = {"code": "HTTP_" + str(response.status_code), "detail": response.text[:500]}
    if not isinstance(problem, dict):
        problem = {"detail": str(problem)}
    problem.setdefault("code", "HTTP_" + str(response.status_code))
    err = _problem_dict_to_error(problem)
    err.details["status"] = response.status_code
    return err

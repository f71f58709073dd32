"""Replays the contract vectors (tests/vectors/contracts/*.json) through the application:
pre-state blocks, the case's transaction, then the receipt and post-state it must produce.
The format is described in each file's ``description``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from govchain.app import Application
from govchain.client.tx import build_tx
from govchain.contracts import default_registry
from govchain.contracts.notary import NotaryRecord, notary_state_key
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.encoding import decode, to_builtins
from govchain.errors import GovchainError
from govchain.execution import CheckedTx
from govchain.storage import MemoryLedgerStore
from govchain.types import Genesis, GenesisNode, GenesisOrg

VECTORS = Path(__file__).parent / "contracts"
NOTARY: dict[str, Any] = json.loads((VECTORS / "notary.json").read_text(encoding="utf-8"))


class Replayer:
    """One case's chain: genesis from the vector file, then blocks through the application."""

    def __init__(self, spec: dict[str, Any], case_name: str) -> None:
        self.spec = spec
        self.case_name = case_name
        self.keys = {label: self._key(entry) for label, entry in spec["keys"].items()}
        chain = spec["chain"]
        orgs = [
            GenesisOrg(
                o["id"],
                o["name"],
                o["name_zh"],
                o["kind"],
                [self.keys[label].public_key.hex() for label in o["admins"]],
            )
            for o in chain["orgs"]
        ]
        nodes = [
            GenesisNode(n["id"], n["org"], self.keys[n["key"]].public_key.hex())
            for n in chain["nodes"]
        ]
        self.genesis = Genesis(chain["chain_id"], chain["genesis_time_ms"], orgs, nodes)
        self.store = MemoryLedgerStore()
        node_key = self.keys[chain["nodes"][0]["key"]]
        self.app = Application(self.store, self.genesis, default_registry(), node_key)
        self._nonce = 0

    @staticmethod
    def _key(entry: dict[str, str]) -> KeyPair:
        key = get_scheme(ED25519).from_seed(bytes.fromhex(entry["seed"]))
        assert key.public_key.hex() == entry["public_key"], "vector key does not match its seed"
        return key

    def args(self, args: Any) -> Any:
        if not isinstance(args, dict):
            return args
        byte_names = set(self.spec["bytes_args"])
        return {
            k: bytes.fromhex(v) if k in byte_names and isinstance(v, str) else v
            for k, v in args.items()
        }

    def tx(self, item: dict[str, Any]) -> bytes:
        self._nonce += 1
        nonce = hashlib.sha256(f"{self.case_name}/{self._nonce}".encode()).digest()[:16]
        return build_tx(
            self.keys[item["signer"]],
            chain_id=self.genesis.chain_id,
            contract=self.spec["contract"],
            method=self.spec["method"],
            args=self.args(item["args"]),
            valid_until=self.app.info().height + 10,
            nonce=nonce,
        )

    def check(self, raws: list[bytes]) -> list[CheckedTx | GovchainError]:
        return self.app.check_txs(raws)

    def commit(self, raws: list[bytes], time_ms: int) -> Any:
        checked = self.check(raws)
        assert all(isinstance(c, CheckedTx) for c in checked), checked
        committed = self.app.commit(self.app.finalize_block(checked, time_ms))  # type: ignore[arg-type]
        assert committed.dropped == []
        assert committed.block.header.time_ms == time_ms
        return committed


def _doc_key(case: dict[str, Any]) -> bytes | None:
    value = case["tx"]["args"].get("hash") if isinstance(case["tx"]["args"], dict) else None
    return notary_state_key(bytes.fromhex(value)) if isinstance(value, str) else None


def test_vector_file_is_well_formed() -> None:
    names = [c["name"] for c in NOTARY["cases"]]
    assert len(names) == len(set(names))
    outcomes = {c["post"].get("error") or c["post"].get("rejected") for c in NOTARY["cases"]}
    assert {
        None,
        "NOTARY_ALREADY_ANCHORED",
        "NOTARY_NOT_OWNER",
        "NOTARY_UNKNOWN_ORG",
        "NOTARY_BAD_HASH",
        "NOTARY_BAD_TITLE",
        "NOTARY_BAD_METADATA",
        "NOTARY_BAD_EXPIRY",
        "TX_UNKNOWN_SENDER",
        "TX_INVALID_ARGS",
    } <= outcomes


@pytest.mark.parametrize("case", NOTARY["cases"], ids=lambda c: c["name"])
def test_notary_vector(case: dict[str, Any]) -> None:
    chain = Replayer(NOTARY, case["name"])
    pre = chain.commit([chain.tx(item) for item in case["pre"]], NOTARY["pre_block_time_ms"])
    assert pre.block.header.height == 1
    assert all(r.ok for r in pre.receipts), [r.code for r in pre.receipts]

    doc_key = _doc_key(case)
    before = chain.store.get_state(doc_key) if doc_key is not None else None
    raw = chain.tx(case["tx"])
    post = case["post"]

    if "rejected" in post:
        (result,) = chain.check([raw])
        assert isinstance(result, GovchainError), "admission must refuse this transaction"
        assert result.code == post["rejected"]
        assert chain.app.info().height == 1
        return

    committed = chain.commit([raw], NOTARY["block_time_ms"])
    assert committed.block.header.height == 2
    (receipt,) = committed.receipts
    (tx_id,) = committed.tx_ids
    after = chain.store.get_state(doc_key) if doc_key is not None else None

    if not post["ok"]:
        assert not receipt.ok
        assert receipt.code == post["error"], receipt.message
        assert receipt.message
        assert receipt.events == []
        assert after == before
        return

    assert receipt.ok, f"{receipt.code}: {receipt.message}"
    assert receipt.code == ""
    assert to_builtins(receipt.events) == [
        [e["contract"], e["name"], e["attributes"]] for e in post["events"]
    ]
    assert after is not None
    record = decode(after, NotaryRecord)
    assert decode(bytes(receipt.result), NotaryRecord) == record
    expected = {**post["record"], "tx_id": tx_id.hex()}
    assert to_builtins(record) == expected
    # The view answers the same record.
    assert chain.app.query("notary", "get", {"hash": record.hash}) == record

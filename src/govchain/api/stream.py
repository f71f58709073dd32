"""The event stream's messages for one committed block."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from litestar.response import ServerSentEventMessage

from govchain.api.dto import BlockView

__all__ = ["StreamFilter", "block_messages"]


@dataclass(frozen=True, slots=True)
class StreamFilter:
    full: bool = False  # block events carry transactions and receipts
    txs: bool = False  # one `tx` event per transaction
    events: bool = False  # one `event` per contract event
    contract: str | None = None  # only this contract's transactions and events

    @property
    def needs_full_view(self) -> bool:
        return self.full or self.txs or self.events


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def block_messages(view: BlockView, wanted: StreamFilter) -> list[ServerSentEventMessage]:
    """Messages for a block (``view`` must be a full view when ``wanted.needs_full_view``); the
    `block` message comes last and alone carries the id, so a client that resumes never skips
    part of a block."""
    height = view.header.height
    messages = []
    receipts = view.receipts or []
    txs = view.txs or []
    for tx, receipt in zip(txs, receipts, strict=True):
        if wanted.contract is not None and tx["contract"] != wanted.contract:
            continue
        if wanted.txs:
            messages.append(
                ServerSentEventMessage(
                    _json(
                        {
                            "height": height,
                            "tx_id": receipt.tx_id,
                            "contract": tx["contract"],
                            "method": tx["method"],
                            "ok": receipt.ok,
                            "code": receipt.code,
                            "message": receipt.message,
                        }
                    ),
                    event="tx",
                )
            )
        if wanted.events:
            for ev in receipt.events:
                messages.append(
                    ServerSentEventMessage(
                        _json(
                            {
                                "height": height,
                                "tx_id": receipt.tx_id,
                                "contract": ev.contract,
                                "name": ev.name,
                                "attributes": ev.attributes,
                            }
                        ),
                        event="event",
                    )
                )
    block = view if wanted.full else BlockView(view.header, view.tx_ids, view.failed_tx_ids)
    messages.append(ServerSentEventMessage(_json(block), event="block", id=height))
    return messages

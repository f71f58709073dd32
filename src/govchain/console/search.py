"""The search box: what a query names, and the console page that shows it.

A number is a block height; ``did:…`` a DID; 64 hex digits a block hash, a transaction id, a
credential hash or a notarised document's hash (looked up in that order); anything else an
organisation id. When the ledger pages are closed (``ledger=False``), blocks and transactions are
not looked up at all, so that what the search answers never tells whether one exists.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from govchain.app import Application
from govchain.console.chain import get_height_by_hash, get_tx_height
from govchain.console.directory import get_credential_record, get_notary_record
from govchain.errors import GovchainError

__all__ = ["BASE", "find_page"]

BASE = "/console"
_HEX32 = re.compile(r"[0-9a-fA-F]{64}")
_ORG_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def _find_ledger_hash(app: Application, value: bytes) -> str | None:
    if (height := get_height_by_hash(app, value)) is not None:
        return f"{BASE}/blocks/{height}"
    if get_tx_height(app, value) is not None:
        return f"{BASE}/txs/{value.hex()}"
    return None


def _find_hash(app: Application, value: bytes, ledger: bool) -> str | None:
    if ledger and (page := _find_ledger_hash(app, value)) is not None:
        return page
    if get_credential_record(app, value) is not None:
        return f"{BASE}/credentials/{value.hex()}"
    if get_notary_record(app, value) is not None:
        return f"{BASE}/notary?hash={value.hex()}"
    return None


def _is_org(app: Application, org_id: str) -> bool:
    try:
        app.query("identity", "org", {"id": org_id})
    except GovchainError:
        return False
    return True


def find_page(app: Application, query: str, *, ledger: bool) -> str | None:
    """The console path of what ``query`` names, or None when nothing matches; with ``ledger``
    False, only public pages (no block heights, block hashes or transaction ids)."""
    q = query.strip()
    if q.isdigit():
        height = int(q)
        return f"{BASE}/blocks/{height}" if ledger and height <= app.info().height else None
    if q.startswith("did:"):
        return f"{BASE}/dids/{quote(q, safe=':')}"
    if _HEX32.fullmatch(q.removeprefix("0x")):
        return _find_hash(app, bytes.fromhex(q.removeprefix("0x")), ledger)
    if _ORG_ID.fullmatch(q) and _is_org(app, q):
        return f"{BASE}/orgs/{q}"
    return None

"""The web console: HTML pages over the node's own state, under ``/console``.

    GET  /console                        overview: chain, node, finality, recent blocks*
    GET  /console/blocks?top=            blocks, newest first, 20 a page*
    GET  /console/blocks/{height}?first= a block: header, hashes, transactions (100 a page)*
    GET  /console/txs/{id}               a transaction's public metadata, receipt and events*
    GET  /console/orgs[/{org}]           organisations; one with its members' ids and roles*
    GET  /console/dids/{did}             an organisation's DID document
    GET  /console/credentials/{hash}     a credential's anchor and status
    GET  /console/verify, POST           verify a pasted credential (JSON) or QR pass (HC1:)
    GET  /console/notary?hash=           a notarised document by its SHA-256
    GET  /console/catalog, /services     the data catalogue; registered service definitions
    GET  /console/search?q=              redirects to what the query names
    (* the ledger pages, or the ledger part of the page: see below)

Every page is read only and needs no key. By default (``console_ledger = "off"`` in the node's
config) the console shows only what the public API routes show: the ledger pages — blocks,
transactions, organisations' members, member-only reads in the API — answer 403 with how to read
them with a member's key, and the search does not look blocks or transactions up. With
``console_ledger = "public"`` (a demo or public-information network) they are open to everyone.
Pages are rendered by Jinja2 with autoescaping, need no JavaScript (plain links and forms) and are
served with a strict Content-Security-Policy: no scripts at all, styles from the node only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import ResponseHeader
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

import govchain
from govchain.api.auth import PUBLIC
from govchain.console import chain, directory, extensions
from govchain.console.search import find_page
from govchain.console.templating import STATIC_FILES, create_environment, load_static
from govchain.console.verify import verify_text
from govchain.errors import BadRequest, GovchainError, NotFound
from govchain.node.runtime import Node

__all__ = ["CONTENT_SECURITY_POLICY", "console_routes", "console_template_config"]

log = logging.getLogger("govchain.console")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
HTML = "text/html; charset=utf-8"
MAX_FORM_BYTES = 256 * 1024
SUGGESTIONS = (
    "a block height, e.g. 0",
    "a block hash, transaction id, credential hash or document hash (64 hex digits)",
    "an organisation id, e.g. tax",
    "an organisation's DID, did:govchain:<chain id>:<organisation>",
)
PUBLIC_SUGGESTIONS = (  # when the ledger pages are closed
    "a credential hash or document hash (64 hex digits)",
    *SUGGESTIONS[2:],
)
MEMBER_READ = "--dir DIR --org ORG"  # a member's key: an organisation's admin key in DIR
CLOSED_SEARCH_HINT = (
    "Blocks and transactions are not searched here: they are for members of organisations "
    f"(govchain block show HEIGHT {MEMBER_READ}, govchain tx show ID {MEMBER_READ})."
)


@dataclass
class VerifyForm:
    text: str = ""


def console_template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The template engine of the console's pages (the application's ``template_config``)."""
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(create_environment()))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _error_page(ledger: bool) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]]:
    """Errors on console pages are pages too: what went wrong and what to try."""

    def render(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if isinstance(exc, GovchainError):
            status, title, detail, hint = exc.status, exc.title, exc.message, exc.hint
        elif isinstance(exc, HTTPException):
            status, title = exc.status_code, _phrase(exc.status_code)
            detail, hint = str(exc.detail), ""
        else:
            log.exception("console page %s failed", request.url.path)
            status, title, detail, hint = 500, "Internal error", "the page could not be built", ""
        context = {"status": status, "title": title, "detail": detail, "hint": hint}
        suggestions = SUGGESTIONS if ledger else PUBLIC_SUGGESTIONS
        return Template(
            "error.html",
            context={**context, "suggestions": suggestions, "ledger": ledger},
            status_code=status,
            headers=SECURITY_HEADERS,
            media_type=HTML,
        )

    return render


def _hex32(value: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value.strip().removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BadRequest(f"{what} must be 64 hex digits", hint="Check the value and try again.")
    return raw


@dataclass(frozen=True, slots=True)
class _Pages:
    """Renders pages; ``ledger`` tells them whether the ledger pages are open to everyone."""

    ledger: bool

    def render(self, name: str, **context: Any) -> Template:
        return Template(name, context={**context, "ledger": self.ledger}, media_type=HTML)

    def members_only(self, what: str, command: str, sdk: str) -> Template:
        """The 403 page of a ledger page while the ledger pages are closed: for whom it is, how
        to read the same with a member's key, and how an operator opens the pages."""
        context = {"what": what, "command": f"{command} {MEMBER_READ}", "sdk": sdk}
        return Template(
            "members_only.html",
            context={**context, "ledger": self.ledger, "nav": ""},
            status_code=403,
            media_type=HTML,
        )


def console_routes(node: Node) -> list[Any]:
    """The console's pages, as one router mounted at ``/console``."""
    pages = _Pages(node.config.console_ledger == "public")
    handlers = [
        *_chain_pages(node, pages),
        *_directory_pages(node, pages),
        *_credential_pages(node, pages),
        *_service_pages(node, pages),
        *_utility_pages(node, pages),
    ]
    router = Router(
        path="/console",
        route_handlers=handlers,
        exception_handlers={Exception: _error_page(pages.ledger)},
        response_headers=[ResponseHeader(name=k, value=v) for k, v in SECURITY_HEADERS.items()],
        include_in_schema=False,
    )
    return [router]


def _node_status(node: Node) -> chain.NodeStatus:
    uptime = int(time.time() - node.started_at)
    return chain.NodeStatus(node.config.node_id, govchain.__version__, len(node.mempool), uptime)


def _chain_pages(node: Node, pages: _Pages) -> list[Any]:
    app_ = node.app
    counter = chain.TxCounter() if pages.ledger else None

    @get("/", opt=PUBLIC)
    async def overview() -> Template:
        finality = extensions.get_finality(node)
        page = await asyncio.to_thread(
            chain.get_overview, app_, counter, _node_status(node), finality
        )
        return pages.render("overview.html", nav="overview", s=page)

    ledger = _ledger_pages(node, pages) if pages.ledger else _closed_ledger_pages(pages)
    return [overview, *ledger]


def _ledger_pages(node: Node, pages: _Pages) -> list[Any]:
    app_ = node.app

    @get("/blocks", opt=PUBLIC)
    async def blocks(top: FromQuery[int | None] = None) -> Template:
        page = await asyncio.to_thread(chain.get_block_page, app_, top)
        return pages.render("blocks.html", nav="blocks", page=page)

    @get("/blocks/{height:int}", opt=PUBLIC)
    async def block(height: FromPath[int], first: FromQuery[int] = 0) -> Template:
        detail = await asyncio.to_thread(chain.get_block_detail, app_, height, first)
        return pages.render("block.html", nav="blocks", b=detail)

    @get("/txs/{tx_id:str}", opt=PUBLIC)
    async def tx(tx_id: FromPath[str]) -> Template:
        detail = await asyncio.to_thread(chain.get_tx_detail, app_, _hex32(tx_id, "tx id"))
        return pages.render("tx.html", nav="blocks", t=detail)

    return [blocks, block, tx]


def _closed_ledger_pages(pages: _Pages) -> list[Any]:
    """The ledger pages while they are closed: each answers the members-only page, before any
    lookup, so that it tells nothing of what exists."""

    @get("/blocks", opt=PUBLIC, sync_to_thread=False)
    def blocks() -> Template:
        return pages.members_only("blocks", "govchain block show latest", 'block("latest")')

    @get("/blocks/{height:int}", opt=PUBLIC, sync_to_thread=False)
    def block(height: FromPath[int]) -> Template:
        return pages.members_only(
            f"block {height}", f"govchain block show {height}", f"block({height})"
        )

    @get("/txs/{tx_id:str}", opt=PUBLIC, sync_to_thread=False)
    def tx(tx_id: FromPath[str]) -> Template:
        tid = _hex32(tx_id, "tx id").hex()
        return pages.members_only(
            f"transaction {tid[:16]}…", f"govchain tx show {tid}", f'tx("{tid}")'
        )

    return [blocks, block, tx]


def _directory_pages(node: Node, pages: _Pages) -> list[Any]:
    app_ = node.app

    @get("/orgs", opt=PUBLIC)
    async def orgs() -> Template:
        rows = await asyncio.to_thread(directory.list_orgs, app_)
        return pages.render("orgs.html", nav="orgs", orgs=rows)

    @get("/orgs/{org_id:str}", opt=PUBLIC)
    async def org(org_id: FromPath[str]) -> Template:
        detail = await asyncio.to_thread(
            directory.get_org_detail, app_, org_id, with_members=pages.ledger
        )
        return pages.render("org.html", nav="orgs", o=detail, member_read=MEMBER_READ)

    @get("/dids/{did:str}", opt=PUBLIC)
    async def did(did: FromPath[str]) -> Template:
        page = await asyncio.to_thread(directory.get_did_page, app_, did)
        return pages.render("did.html", nav="orgs", d=page)

    @get("/notary", opt=PUBLIC)
    async def notary(doc_hash: Annotated[str, QueryParameter(name="hash")] = "") -> Template:
        record = None
        if doc_hash:
            record = await asyncio.to_thread(
                directory.get_notary_record, app_, _hex32(doc_hash, "the document hash")
            )
        return pages.render("notary.html", nav="notary", query=doc_hash, record=record)

    return [orgs, org, did, notary]


def _credential_pages(node: Node, pages: _Pages) -> list[Any]:
    app_ = node.app

    @get("/credentials/{credential_hash:str}", opt=PUBLIC)
    async def credential(credential_hash: FromPath[str]) -> Template:
        digest = _hex32(credential_hash, "the credential hash")
        record = await asyncio.to_thread(directory.get_credential_record, app_, digest)
        if record is None:
            raise NotFound(
                f"no credential anchored with hash {digest.hex()}",
                hint="To check a credential itself, paste it on the verify page.",
            )
        return pages.render("credential.html", nav="verify", c=record)

    @get("/verify", opt=PUBLIC)
    async def verify_form() -> Template:
        return pages.render("verify.html", nav="verify", text="", verdict=None)

    @post("/verify", opt=PUBLIC, status_code=200, request_max_body_size=MAX_FORM_BYTES)
    async def verify(
        data: Annotated[VerifyForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        now_ms = int(time.time() * 1000)
        verdict = await asyncio.to_thread(verify_text, app_, data.text, now_ms)
        return pages.render("verify.html", nav="verify", text=data.text, verdict=verdict)

    return [credential, verify_form, verify]


def _service_pages(node: Node, pages: _Pages) -> list[Any]:
    app_ = node.app

    @get("/catalog", opt=PUBLIC)
    async def catalog(q: FromQuery[str] = "") -> Template:
        table = await asyncio.to_thread(extensions.get_catalog, app_, q.strip())
        return pages.render("catalog.html", nav="catalog", table=table, query=q)

    @get("/services", opt=PUBLIC)
    async def services() -> Template:
        rows = await asyncio.to_thread(extensions.list_services, app_)
        return pages.render("services.html", nav="services", services=rows)

    return [catalog, services]


def _utility_pages(node: Node, pages: _Pages) -> list[Any]:
    app_ = node.app

    @get("/search", opt=PUBLIC)
    async def search(q: FromQuery[str] = "") -> Redirect:
        query = q.strip()
        target = (
            await asyncio.to_thread(find_page, app_, query, ledger=pages.ledger) if query else None
        )
        if target is None:
            hint = "Check the value; the search finds the things listed below."
            raise NotFound(
                f"nothing on this chain matches {query[:100]!r}" if query else "no query",
                hint=hint if pages.ledger else f"{hint} {CLOSED_SEARCH_HINT}",
            )
        return Redirect(target, status_code=303)

    @get("/static/{name:str}", opt=PUBLIC, sync_to_thread=False)
    def static(name: FromPath[str]) -> Response[bytes]:
        if name not in STATIC_FILES:
            raise NotFound(f"no static file {name!r}")
        headers = {"Cache-Control": "public, max-age=3600"}
        return Response(load_static(name), media_type=STATIC_FILES[name], headers=headers)

    @get("/{rest:path}", opt=PUBLIC, sync_to_thread=False)
    def not_found(rest: FromPath[str]) -> Response[Any]:
        raise NotFound(f"no console page {rest!r}", hint="Try the search box or the links.")

    return [search, static, not_found]

"""Authentication of API requests and the access rules of reads.

(Interface; the signed-request scheme, the middleware and the access levels are completed in
this module.) Handlers find the caller in ``request.state``: :func:`get_principal` returns the
authenticated principal or None for an anonymous caller; :func:`require_member` and
:func:`require_reader` raise 401/403 problems with a reason.

Route handlers declare their access level with ``opt={"access": ...}``:
``"public"`` — anyone; ``"member"`` (the default) — an active member of an organisation;
``"self"`` — decided inside the handler with :func:`require_reader`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request

from govchain.errors import GovchainError

__all__ = [
    "AuthForbidden",
    "AuthRequired",
    "Principal",
    "get_principal",
    "require_member",
    "require_reader",
]


class AuthRequired(GovchainError):
    code = "AUTH_REQUIRED"
    status = 401
    title = "Authentication required"
    default_hint = (
        "Sign the request (the SDK and CLI do this when given a key: "
        "`--dir DIR --org ORG` or `--key FILE`)."
    )


class AuthForbidden(GovchainError):
    code = "AUTH_FORBIDDEN"
    status = 403
    title = "Forbidden"
    default_hint = "Ask your organisation's admin for a role that may read this."


@dataclass(frozen=True, slots=True)
class Principal:
    public_key: bytes
    identity: str
    org: str
    kind: str  # org | member | node | enterprise | citizen
    roles: frozenset[str]

    @property
    def is_org_member(self) -> bool:
        return self.kind in ("member", "node") and bool(self.org)


def get_principal(request: Request[Any, Any, Any]) -> Principal | None:
    principal = request.scope.get("state", {}).get("principal")
    return principal if isinstance(principal, Principal) else None


def require_member(request: Request[Any, Any, Any]) -> Principal:
    principal = get_principal(request)
    if principal is None:
        raise AuthRequired("this read needs an authenticated member of an organisation")
    if not principal.is_org_member:
        raise AuthForbidden(f"{principal.identity} is not a member of an organisation")
    return principal


def require_reader(request: Request[Any, Any, Any], identity_id: str) -> Principal:
    """Members of organisations, or the identity itself, may read an identity's records."""
    principal = get_principal(request)
    if principal is None:
        raise AuthRequired(f"reading {identity_id} needs authentication")
    if principal.is_org_member or principal.identity == identity_id:
        return principal
    raise AuthForbidden(f"{principal.identity} may not read {identity_id}")

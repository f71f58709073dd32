"""Declarative authorisation policies, evaluated over a transaction's signers.

A policy is data (a msgspec tagged union, stored on chain by name and changed by governance):

    {"type": "signed_by", "who": {"type": "role", "org": "tax", "role": "officer"}}
    {"type": "n_of", "n": 2, "of": [<policy>, <policy>, ...]}
    {"type": "founders_majority"}          more than half of the founding organisations
    {"type": "signed_by", "who": {"type": "identity", "id": "cit:7f3a..."}}

Principals name who may sign: an identity; any active member of an organisation; a member holding
a role in an organisation (``org`` ``"*"`` means any organisation). A signer counts only if its key
is active at the height of evaluation and its identity (and organisation) are active.

Evaluation assigns each signer to at most one ``signed_by`` clause, so "2 of {Tax, Market}"
needs two different signers, and counts an organisation at most once in ``founders_majority``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import msgspec

__all__ = [
    "AnyMember",
    "FoundersMajority",
    "IdentityPrincipal",
    "NOf",
    "Policy",
    "Principal",
    "Role",
    "SignedBy",
    "Signer",
    "all_of",
    "any_of",
    "describe",
    "is_satisfied",
    "matches",
    "validate",
]


class IdentityPrincipal(
    msgspec.Struct, tag="identity", tag_field="type", frozen=True, forbid_unknown_fields=True
):
    id: str


class AnyMember(
    msgspec.Struct, tag="member", tag_field="type", frozen=True, forbid_unknown_fields=True
):
    org: str


class Role(msgspec.Struct, tag="role", tag_field="type", frozen=True, forbid_unknown_fields=True):
    org: str  # "*" for any organisation
    role: str


Principal = IdentityPrincipal | AnyMember | Role


class SignedBy(
    msgspec.Struct, tag="signed_by", tag_field="type", frozen=True, forbid_unknown_fields=True
):
    who: Principal


class NOf(msgspec.Struct, tag="n_of", tag_field="type", frozen=True, forbid_unknown_fields=True):
    n: int
    of: list[Policy]


class FoundersMajority(
    msgspec.Struct,
    tag="founders_majority",
    tag_field="type",
    frozen=True,
    forbid_unknown_fields=True,
):
    role: str = "admin"


Policy = SignedBy | NOf | FoundersMajority

MAX_DEPTH = 8
MAX_CLAUSES = 64
MAX_STEPS = 20_000


@dataclass(frozen=True, slots=True)
class Signer:
    """A signer resolved through the identity contract (active key, active identity)."""

    public_key: bytes
    identity: str
    org: str
    roles: frozenset[str]


def any_of(*policies: Policy) -> NOf:
    return NOf(1, list(policies))


def all_of(*policies: Policy) -> NOf:
    return NOf(len(policies), list(policies))


def matches(principal: Principal, signer: Signer) -> bool:
    if isinstance(principal, IdentityPrincipal):
        return signer.identity == principal.id
    if isinstance(principal, AnyMember):
        return signer.org == principal.org
    return (principal.org in ("*", signer.org)) and principal.role in signer.roles


def validate(policy: Policy, depth: int = 0) -> int:
    """Check a policy's shape (thresholds in range, bounded size); return its clause count."""
    if depth > MAX_DEPTH:
        raise ValueError(f"policy nested deeper than {MAX_DEPTH}")
    if isinstance(policy, NOf):
        if not 1 <= policy.n <= len(policy.of):
            raise ValueError(f"n_of needs 1 <= n <= {len(policy.of)}, got {policy.n}")
        count = sum(validate(p, depth + 1) for p in policy.of)
    else:
        count = 1
    if count > MAX_CLAUSES:
        raise ValueError(f"policy has more than {MAX_CLAUSES} clauses")
    return count


def is_satisfied(policy: Policy, signers: Sequence[Signer], founders: Iterable[str]) -> bool:
    """Whether ``signers`` satisfy ``policy``; ``founders`` are the founding organisations.

    The search is bounded (``MAX_STEPS``, deterministic): a combination of policy and signers
    too costly to decide counts as not satisfied, so no transaction can stall a block."""
    expanded = _expand(policy, tuple(sorted(set(founders))))
    budget = [MAX_STEPS]
    try:
        return any(
            True for _ in _assignments(expanded, frozenset(range(len(signers))), signers, budget)
        )
    except _OutOfSteps:
        return False


# A policy is expanded into a tree whose leaves are principals; founders_majority becomes an
# n_of over one role clause per founding organisation.
_Node = tuple[int, tuple["_Node", ...]] | Principal


def _expand(policy: Policy, founders: tuple[str, ...]) -> _Node:
    if isinstance(policy, SignedBy):
        return policy.who
    if isinstance(policy, NOf):
        return (policy.n, tuple(_expand(p, founders) for p in policy.of))
    return (len(founders) // 2 + 1, tuple(Role(org, policy.role) for org in founders))


class _OutOfSteps(Exception):
    pass


def _assignments(
    node: _Node, free: frozenset[int], signers: Sequence[Signer], budget: list[int]
) -> Iterable[frozenset[int]]:
    """Every set of still-free signers left after satisfying ``node`` (backtracking)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _OutOfSteps
    if not isinstance(node, tuple):
        for i in sorted(free):
            if matches(node, signers[i]):
                yield free - {i}
        return
    n, children = node
    yield from _choose(children, n, free, signers, budget)


def _choose(
    children: tuple[_Node, ...],
    n: int,
    free: frozenset[int],
    signers: Sequence[Signer],
    budget: list[int],
) -> Iterable[frozenset[int]]:
    if n == 0:
        yield free
        return
    if len(children) < n:
        return
    first, rest = children[0], children[1:]
    for left in _assignments(first, free, signers, budget):  # take the first child ...
        yield from _choose(rest, n - 1, left, signers, budget)
    yield from _choose(rest, n, free, signers, budget)  # ... or skip it


def describe(policy: Policy, name: Callable[[str], str] = str) -> str:
    """A sentence for error messages, e.g. "2 of (an admin of tax, an admin of market)"."""
    if isinstance(policy, SignedBy):
        who = policy.who
        if isinstance(who, IdentityPrincipal):
            return f"identity {who.id}"
        if isinstance(who, AnyMember):
            return f"a member of {name(who.org)}"
        org = "any organisation" if who.org == "*" else name(who.org)
        return f"a{'n' if who.role[:1] in 'aeiou' else ''} {who.role} of {org}"
    if isinstance(policy, NOf):
        inner = ", ".join(describe(p, name) for p in policy.of)
        if policy.n == len(policy.of) and policy.n > 1:
            return f"all of ({inner})"
        return inner if len(policy.of) == 1 else f"{policy.n} of ({inner})"
    return f"a majority of the founding organisations' {policy.role}s"

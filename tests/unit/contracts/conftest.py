"""Fixtures for the identity tests (the helpers are in ``identity_world.py``).

Citizens' attestations need the issuer to be accredited: :func:`accredit_founders` makes the
governance lookup say that the founding organisations are accredited for "real-name" (the
accreditation itself is the governance contract's business, tested there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from identity_world import World, populate

from govchain.contracts import identity_methods
from govchain.contracts.identity import founding_orgs


def _fake_accreditation(ctx: Any, org: str, kind: str) -> bool:
    return kind == "real-name" and org in founding_orgs(ctx)


@pytest.fixture
def accredit_founders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Founding organisations accredited for "real-name", whichever way accreditation is
    looked up (the governance contract's ``is_accredited``, or the fallback without it)."""
    lookup = identity_methods._governance_accreditation()
    if lookup is not None:
        import govchain.contracts.governance as governance

        monkeypatch.setattr(governance, "is_accredited", _fake_accreditation)


@pytest.fixture
def world(accredit_founders: None, make_chain: Callable[..., Any]) -> World:
    return populate(make_chain())

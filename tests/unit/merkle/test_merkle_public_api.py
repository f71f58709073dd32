"""The public surface of govchain.merkle: every name in ``__all__`` exists, nothing else leaks."""

from __future__ import annotations

import govchain.merkle as merkle
from govchain.merkle import rfc6962, smt


def test_all_names_exist() -> None:
    for module in (merkle, rfc6962, smt):
        assert len(set(module.__all__)) == len(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_package_surface() -> None:
    public = {name for name in vars(merkle) if not name.startswith("_")}
    assert public == set(merkle.__all__)
    assert merkle.EMPTY_TREE_ROOT == rfc6962.EMPTY_ROOT
    assert merkle.EMPTY_STATE_ROOT == smt.EMPTY_ROOT == bytes(32)

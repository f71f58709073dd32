"""The public surface: every package declares ``__all__`` and every name in it resolves."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import govchain

SRC = Path(govchain.__file__).parent


def _package_dirs() -> list[Path]:
    return sorted(
        {p.parent for p in SRC.rglob("*.py") if "__pycache__" not in p.parts},
    )


def _package_name(directory: Path) -> str:
    return ".".join(directory.relative_to(SRC.parent).parts)


PACKAGES = [_package_name(d) for d in _package_dirs()]


@pytest.mark.parametrize("directory", _package_dirs(), ids=_package_name)
def test_every_source_directory_is_a_regular_package(directory: Path) -> None:
    # Without __init__.py setuptools' package discovery leaves the directory out of the wheel.
    assert (directory / "__init__.py").is_file()


def test_packaging_finds_every_package() -> None:
    setuptools = pytest.importorskip("setuptools")
    found = set(setuptools.find_packages(str(SRC.parent)))
    assert set(PACKAGES) <= found


@pytest.mark.parametrize("name", PACKAGES)
def test_package_all_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert isinstance(exported, list | tuple)
    assert len(set(exported)) == len(exported), f"{name}.__all__ has duplicates"
    for item in exported:
        assert isinstance(item, str)
        assert hasattr(module, item), f"{name}.__all__ names {item!r}, which does not exist"


def test_star_import_works_everywhere() -> None:
    for name in PACKAGES:
        namespace: dict[str, object] = {}
        exec(f"from {name} import *", namespace)  # noqa: S102 - the point of the test
        exported = importlib.import_module(name).__all__
        assert set(exported) <= set(namespace)


def test_key_names_are_public() -> None:
    import govchain.app
    import govchain.client
    import govchain.execution
    import govchain.types

    assert {"Application", "PendingBlock", "CommittedBlock"} <= set(govchain.app.__all__)
    assert {"build_tx", "verify_tx_answer", "TrustAnchor"} <= set(govchain.client.__all__)
    assert {"replay_block", "decode_tx", "RecentTxIndex"} <= set(govchain.execution.__all__)
    assert {"SignedTx", "Block", "Receipt", "Genesis"} <= set(govchain.types.__all__)
    assert govchain.__version__

"""The import-layering lint: dependencies point down only, and the core stays pure.

The core (types, encoding, crypto, credentials, merkle, state, contracts, execution, and the
error tree) never imports the layers above it, nor anything that reads a clock, draws randomness
or does I/O. Every import statement counts, including those inside functions.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import govchain

SRC = Path(govchain.__file__).parent

CORE = (
    "types",
    "encoding",
    "crypto",
    "credentials",
    "merkle",
    "state",
    "contracts",
    "execution",
    "errors",
)
IMPURE_STDLIB = (
    "sqlite3",
    "socket",
    "httpx",
    "litestar",
    "uvicorn",
    "time",
    "random",
    "os",
    "datetime",
    "threading",
    "asyncio",
)


@dataclass(frozen=True)
class Rule:
    layers: tuple[str, ...]  # top-level packages under govchain the rule applies to
    forbidden_internal: tuple[str, ...]  # govchain subpackages they may not import
    forbidden_external: tuple[str, ...] = ()  # top-level modules they may not import


RULES = (
    Rule(
        CORE,
        ("app", "node", "api", "client", "cli", "storage", "mempool", "consensus"),
        IMPURE_STDLIB,
    ),
    Rule(("app",), ("node", "api", "client", "cli")),
    Rule(("api",), ("cli",)),
    # the web console is part of the API layer: its page models read the Application; what it
    # needs of the node (the Node type, finality) reaches it through api/routes_console.py
    Rule(("console",), ("node", "cli", "client", "storage", "mempool", "consensus")),
    Rule(("client",), ("node", "api", "app", "storage", "cli")),
    Rule(("storage", "mempool", "consensus"), ("app", "node", "api", "client", "cli")),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Absolute names of every module imported by ``source`` (relative imports resolved)."""
    out: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.add(name)
            # ``from govchain import app`` imports the subpackage ``govchain.app``.
            out.update(f"{name}.{alias.name}" for alias in node.names if alias.name != "*")
    return out


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "govchain" else None


def violations(module: str, imports: set[str]) -> list[str]:
    layer = layer_of(module)
    found = []
    for rule in RULES:
        if layer not in rule.layers:
            continue
        for name in sorted(imports):
            top = name.split(".")[0]
            internal = top == "govchain" and layer_of(name) in rule.forbidden_internal
            if top in rule.forbidden_external or internal:
                found.append(f"{module} imports {name}")
    return found


def _sources() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_source_tree_is_found() -> None:
    names = {module_name(p) for p in _sources()}
    assert {"govchain.execution.executor", "govchain.app.application", "govchain.errors"} <= names
    assert len(names) > 40


@pytest.mark.parametrize("path", _sources(), ids=lambda p: module_name(p))
def test_module_respects_the_layers(path: Path) -> None:
    module = module_name(path)
    imports = imported_modules(path.read_text(encoding="utf-8"), module, path.stem == "__init__")
    assert violations(module, imports) == []


# --- the lint itself -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("govchain.execution.x", "import time"),
        ("govchain.execution.x", "def f():\n    import random\n"),
        ("govchain.types.x", "from datetime import datetime"),
        ("govchain.merkle.x", "import os.path"),
        ("govchain.contracts.x", "from govchain.storage import open_store"),
        ("govchain.contracts.x", "from govchain import app"),
        ("govchain.state.x", "from ..node import runtime"),
        ("govchain.errors", "import threading"),
        ("govchain.app.x", "from govchain.api.views import tx_json"),
        ("govchain.api.x", "import govchain.cli.main"),
        ("govchain.client.x", "from govchain.storage.sqlite import SqliteLedgerStore"),
        ("govchain.client.x", "from ..app import Application"),
        ("govchain.mempool.x", "from govchain.node import runtime"),
    ],
)
def test_the_lint_catches(module: str, source: str) -> None:
    assert violations(module, imported_modules(source, module, False))


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("govchain.execution.x", "from govchain.contracts import registry\nimport hashlib"),
        ("govchain.execution.x", "from . import admission\nfrom .recent import RecentTxIndex"),
        ("govchain.app.x", "import threading\nfrom govchain.storage import open_store"),
        ("govchain.client.x", "import httpx\nimport os\nfrom govchain.contracts import x"),
        ("govchain.node.x", "from govchain.api import server\nimport asyncio"),
        ("govchain.crypto.x", "from concurrent.futures import ThreadPoolExecutor"),
    ],
)
def test_the_lint_allows(module: str, source: str) -> None:
    assert violations(module, imported_modules(source, module, False)) == []


def test_relative_imports_resolve() -> None:
    assert "govchain.node.runtime" in imported_modules(
        "from ..node import runtime", "govchain.state.overlay", False
    )
    assert "govchain.execution.recent" in imported_modules(
        "from .recent import X", "govchain.execution", True
    )

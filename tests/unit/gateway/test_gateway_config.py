"""Gateway configuration: resource specs, config files, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from govchain.errors import ConfigError
from govchain.gateway.config import (
    GatewayConfig,
    ResourceMapping,
    load_gateway_config,
    parse_resource_spec,
)


def test_resource_spec() -> None:
    assert parse_resource_spec("tax.payers=taxpayers:subject") == ResourceMapping(
        "tax.payers", table="taxpayers", key_column="subject"
    )
    assert parse_resource_spec("tax.payers=taxpayers").key_column == "id"


@pytest.mark.parametrize("spec", ["tax.payers", "=t", "r=", "r=bad table", "r=t:k;drop"])
def test_bad_resource_specs(spec: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_resource_spec(spec)
    assert err.value.code == "CONFIG_INVALID"


def _write(tmp_path: Path, **changes: Any) -> Path:
    config = {
        "db": "sqlite:///x.db",
        "node": "http://127.0.0.1:8700",
        "key": "gw.key",
        "resources": [
            {"resource_id": "r1", "table": "t"},
            {
                "resource_id": "r2",
                "query": "SELECT district, count(*) AS n FROM t WHERE district = :key",
                "key_column": "district",
            },
        ],
    }
    config.update(changes)
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_config_file(tmp_path: Path) -> None:
    config = load_gateway_config(_write(tmp_path))
    assert isinstance(config, GatewayConfig)
    assert config.mapping("r2") is not None and config.mapping("r3") is None


@pytest.mark.parametrize(
    "changes",
    [
        {"resources": []},
        {"resources": [{"resource_id": "r", "table": "t"}, {"resource_id": "r", "table": "u"}]},
        {"resources": [{"resource_id": "r"}]},
        {"resources": [{"resource_id": "r", "table": "t", "query": "SELECT 1 WHERE 1 = :key"}]},
        {"resources": [{"resource_id": "r", "query": "SELECT 1"}]},
        {"batch_size": 0},
        {"batch_size": 501},
        {"unknown": 1},
    ],
)
def test_bad_config_files(tmp_path: Path, changes: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as err:
        load_gateway_config(_write(tmp_path, **changes))
    assert err.value.code == "CONFIG_INVALID"

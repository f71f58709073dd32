"""`govchain gateway` and `govchain share fetch`: option handling that needs no node."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from govchain.cli.main import cli
from govchain.gateway.config import ResourceMapping
from govchain.gateway.datasource import DataSource
from govchain.gateway.sample import sample_row


def test_init_db_fills_a_sample_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    args = ["gateway", "init-db", "--db", url, "--table", "enterprises", "--subject", "ent:1"]
    result = CliRunner().invoke(cli, [*args, "--rows", "3", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"table": "enterprises", "rows": 4}
    source = DataSource(url, [ResourceMapping("r", table="enterprises", key_column="subject")])
    assert source.get_record("r", "ent:1", ["name"]) == {
        "name": sample_row("enterprises", "ent:1")["name"]
    }


def test_start_needs_a_database_resources_and_a_key() -> None:
    result = CliRunner().invoke(cli, ["gateway", "start", "--db", "sqlite:///x.db"])
    assert result.exit_code == 1
    assert "CONFIG_INVALID" in result.output and "--resource" in result.output


def test_start_refuses_a_bad_resource_spec(tmp_path: Path) -> None:
    args = ["gateway", "start", "--db", "sqlite:///x.db", "--resource", "r", "--key", "k"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "CONFIG_INVALID" in result.output


def test_start_refuses_config_and_options_together(tmp_path: Path) -> None:
    config = tmp_path / "gateway.json"
    config.write_text(
        json.dumps(
            {
                "db": "sqlite:///x.db",
                "node": "http://127.0.0.1:1",
                "key": "k",
                "resources": [{"resource_id": "r", "table": "t"}],
            }
        ),
        encoding="utf-8",
    )
    args = ["gateway", "start", "--config", str(config), "--db", "sqlite:///y.db"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "CONFIG_INVALID" in result.output


def test_fetch_needs_a_key() -> None:
    result = CliRunner(env={"GOVCHAIN_KEY": None, "GOVCHAIN_DIR": None}).invoke(
        cli, ["share", "fetch", "--grant", "g", "--json"]
    )
    assert result.exit_code == 1
    assert json.loads(result.output)["code"] == "CONFIG_INVALID"

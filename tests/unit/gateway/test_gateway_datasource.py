"""Reading a department's database: a table by key column, or a query with :key."""

from __future__ import annotations

from pathlib import Path

import pytest

from govchain.errors import ConfigError
from govchain.gateway.config import ResourceMapping
from govchain.gateway.datasource import DataSource
from govchain.gateway.errors import DataSourceError, FieldsNotGranted, UnknownResource
from govchain.gateway.sample import create_sample_db, sample_row

SUBJECT = "ent:1"


@pytest.fixture
def url(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'd.db'}"
    create_sample_db(db, "taxpayers", [SUBJECT, "ent:2"])
    return db


def test_table_mapping_reads_only_the_fields_asked(url: str) -> None:
    source = DataSource(url, [ResourceMapping("r", table="taxpayers", key_column="subject")])
    source.check()
    row = sample_row("taxpayers", SUBJECT)
    assert source.get_record("r", SUBJECT, ["arrears"]) == {"arrears": row["arrears"]}
    assert source.get_record("r", "ent:none", ["arrears"]) is None


def test_query_mapping(url: str) -> None:
    query = "SELECT credit_rating AS rating, count(*) AS n FROM taxpayers WHERE subject = :key"
    source = DataSource(url, [ResourceMapping("q", query=query, key_column="subject")])
    answer = source.get_record("q", SUBJECT, ["rating", "n"])
    assert answer == {"rating": sample_row("taxpayers", SUBJECT)["credit_rating"], "n": 1}
    with pytest.raises(FieldsNotGranted) as err:
        source.get_record("q", SUBJECT, ["arrears"])
    assert err.value.code == "GATEWAY_FIELDS_NOT_GRANTED"


def test_columns_restrict_what_a_mapping_serves(url: str) -> None:
    mapping = ResourceMapping("r", table="taxpayers", key_column="subject", columns=["tax_status"])
    source = DataSource(url, [mapping])
    with pytest.raises(FieldsNotGranted) as err:
        source.get_record("r", SUBJECT, ["arrears"])
    assert err.value.code == "GATEWAY_FIELDS_NOT_GRANTED"


def test_unknown_resource(url: str) -> None:
    source = DataSource(url, [ResourceMapping("r", table="taxpayers", key_column="subject")])
    with pytest.raises(UnknownResource) as err:
        source.get_record("other", SUBJECT, ["arrears"])
    assert err.value.code == "GATEWAY_UNKNOWN_RESOURCE"


@pytest.mark.parametrize(
    "mapping",
    [
        ResourceMapping("r", table="no_such_table", key_column="subject"),
        ResourceMapping("r", table="taxpayers", key_column="no_such_column"),
    ],
)
def test_wrong_mappings_stop_the_gateway_at_start(url: str, mapping: ResourceMapping) -> None:
    with pytest.raises(ConfigError) as err:
        DataSource(url, [mapping]).check()
    assert err.value.code == "CONFIG_INVALID"


def test_a_failing_database_is_a_data_source_error(tmp_path: Path) -> None:
    query = "SELECT * FROM missing WHERE k = :key"
    source = DataSource(f"sqlite:///{tmp_path / 'e.db'}", [ResourceMapping("q", query=query)])
    with pytest.raises(DataSourceError) as err:
        source.get_record("q", SUBJECT, ["a"])
    assert err.value.code == "GATEWAY_DATA_SOURCE"

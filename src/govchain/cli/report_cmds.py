"""`govchain report`: reports over the chain, e.g. the paperwork figure."""

from __future__ import annotations

import click

from govchain.cli.common import client_from_options, json_option, node_option
from govchain.cli.output import print_json, print_table

__all__ = ["report"]


@click.group()
def report() -> None:
    """Reports over the chain, e.g. the paperwork figure."""


@report.command("paperwork")
@click.option("--service", "service_id", default=None, help="Only this service.")
@node_option
@json_option
def paperwork(service_id: str | None, node_url: str, as_json: bool) -> None:
    """The paperwork figure over every completed service instance: documents required, met by
    credentials the applicant already held, met by data shared between departments, uploaded;
    and the reduction (documents not uploaded / documents required), per service and overall.

    \b
    Counted by the workflow contract when each instance completes (on-chain records, no
    estimate):
      govchain report paperwork
      govchain report paperwork --service open-restaurant --json
    """
    from govchain.client.services import Services, compute_paperwork_rows

    rows, total = compute_paperwork_rows(
        Services(client_from_options(node_url)).paperwork(service_id)
    )
    if as_json:
        print_json({"services": [r.to_json() for r in rows], "total": total.to_json()})
        return
    columns = [
        "service",
        "instances",
        "required",
        "credential",
        "shared data",
        "uploaded",
        "reduction",
    ]
    table = [_cells(r.to_json()) for r in rows]
    if rows:
        table.append(_cells({**total.to_json(), "service_id": "all services"}))
    print_table("Paperwork (completed instances)", columns, table)


def _cells(row: dict[str, object]) -> list[object]:
    pct = row["reduction_percent"]
    return [
        row["service_id"],
        row["instances"],
        row["required"],
        row["met_by_credential"],
        row["met_by_shared_data"],
        row["uploaded"],
        "-" if pct is None else f"{pct:.1f} %",
    ]

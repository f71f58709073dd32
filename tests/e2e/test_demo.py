"""`govchain demo`: the demo city is set up through transactions, runs every built-in service end
to end, prints its summary and, run again, resumes the same chain."""

from __future__ import annotations

import json
import re
from pathlib import Path

from govchain.services import builtin_ids
from integration.nodeproc import free_port, run_cli


def _value(output: str, label: str) -> str:
    match = re.search(rf"{re.escape(label)}\s*│\s*([^│]+?)\s*│", output)
    assert match, f"{label!r} missing from the summary:\n{output}"
    return match.group(1)


def test_demo_runs_the_city_end_to_end_and_resumes(tmp_path: Path) -> None:
    directory, port = tmp_path / "city", free_port()
    first = run_cli("demo", "--dir", str(directory), "--port", str(port), "--exit", timeout=180)
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert int(_value(out, "organisations")) >= 13
    assert int(_value(out, "citizens")) >= 24 and int(_value(out, "enterprises")) >= 3
    assert int(_value(out, "services completed")) == len(builtin_ids()) >= 6
    assert int(_value(out, "credentials issued")) > 0
    assert int(_value(out, "data shared (requests)")) > 0
    assert _value(out, "paperwork reduction").endswith("documents uploaded)")
    issued = int(_value(out, "health passes issued"))
    assert issued > 0 and _value(out, "venue checks offline") == f"{issued} of {issued} admitted"
    assert int(_value(out, "district counts published")) == 2
    genesis = json.loads((directory / "genesis.json").read_text(encoding="utf-8"))
    kinds = [o["kind"] for o in genesis["orgs"]]
    assert kinds.count("department") >= 8 and kinds.count("district") >= 2

    again = run_cli("demo", "--dir", str(directory), "--port", str(port), "--exit", timeout=180)
    assert again.returncode == 0, again.stdout + again.stderr
    assert int(_value(again.stdout, "height")) > int(_value(out, "height"))
    audit = run_cli("verify", "--dir", str(directory))
    assert audit.returncode == 0 and "consistent" in audit.stdout, audit.stdout

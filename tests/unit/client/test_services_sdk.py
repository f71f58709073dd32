"""The services SDK's pure parts: provisions (only hashes of uploads) and the paperwork rows."""

from __future__ import annotations

import hashlib
from pathlib import Path

from govchain.client.services import (
    PaperworkRow,
    compute_paperwork_rows,
    with_credential,
    with_grant,
    with_upload,
)


def test_an_upload_puts_only_its_hash_on_chain(tmp_path: Path) -> None:
    file = tmp_path / "lease.pdf"
    file.write_bytes(b"%PDF lease")
    provision = with_upload("licence", "lease", file)
    assert provision.upload_hash == hashlib.sha256(b"%PDF lease").digest()
    assert (provision.credential_hash, provision.grant_id) == (None, None)


def test_credential_and_grant_provisions() -> None:
    credential = with_credential("s", "n", "ab" * 32, "cd" * 16)
    assert (credential.credential_hash, credential.holder_salt) == (b"\xab" * 32, b"\xcd" * 16)
    assert with_grant("s", "n", "g-1").grant_id == "g-1"


def test_reduction_is_documents_not_uploaded_over_documents_required() -> None:
    report = {
        "services": [
            {
                "service_id": "a",
                "instances": 2,
                "required": 8,
                "credential": 4,
                "data": 2,
                "upload": 2,
            },
            {
                "service_id": "b",
                "instances": 0,
                "required": 0,
                "credential": 0,
                "data": 0,
                "upload": 0,
            },
        ],
        "total": {
            "service_id": "*",
            "instances": 2,
            "required": 8,
            "credential": 4,
            "data": 2,
            "upload": 2,
        },
    }
    rows, total = compute_paperwork_rows(report)
    assert rows[0].reduction_percent == 75.0
    assert rows[1].reduction_percent is None and rows[1].to_json()["reduction_percent"] is None
    assert total.to_json() == {
        "service_id": "*",
        "instances": 2,
        "required": 8,
        "met_by_credential": 4,
        "met_by_shared_data": 2,
        "uploaded": 2,
        "reduction_percent": 75.0,
    }
    assert PaperworkRow("c", 1, 3, 0, 0, 1).to_json()["reduction_percent"] == 66.7

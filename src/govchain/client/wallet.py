"""A holder's wallet: signed credentials kept as files in one directory.

Each credential is stored as ``<credential hash>.json`` (the hash is the credential's anchor id,
:func:`~govchain.credentials.vc.compute_credential_id`), readable by its owner only (mode 0600,
the directory 0700). The default directory is ``~/.govchain/wallet``; env ``GOVCHAIN_WALLET``
or an explicit path overrides it.

>>> wallet = Wallet.open()
>>> digest = wallet.add(vc)
>>> [entry.credential_type for entry in wallet.list()]
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain.credentials.vc import compute_credential_id
from govchain.errors import BadRequest, NotFound

__all__ = ["WALLET_ENV", "Wallet", "WalletEntry", "default_wallet_dir"]

WALLET_ENV = "GOVCHAIN_WALLET"
_SUFFIX = ".json"


def default_wallet_dir() -> Path:
    """Env ``GOVCHAIN_WALLET``, else ``~/.govchain/wallet``."""
    env = os.environ.get(WALLET_ENV)
    return Path(env) if env else Path.home() / ".govchain" / "wallet"


@dataclass(frozen=True, slots=True)
class WalletEntry:
    """What ``list`` shows of a stored credential."""

    hash: str
    credential_type: str
    issuer: str
    subject_id: str | None
    valid_from: str | None
    valid_until: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "type": self.credential_type,
            "issuer": self.issuer,
            "subject_id": self.subject_id,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }


def describe(credential: Mapping[str, Any], digest: str) -> WalletEntry:
    types = [t for t in credential.get("type", []) if t != "VerifiableCredential"]
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    subject = credential.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, Mapping) else None
    return WalletEntry(
        hash=digest,
        credential_type=",".join(str(t) for t in types) or "VerifiableCredential",
        issuer=str(issuer),
        subject_id=subject_id if isinstance(subject_id, str) else None,
        valid_from=credential.get("validFrom"),
        valid_until=credential.get("validUntil"),
    )


class Wallet:
    """A directory of credentials named by their hashes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def open(cls, directory: Path | None = None) -> Wallet:
        return cls(directory if directory is not None else default_wallet_dir())

    def _path(self, digest: str) -> Path:
        return self.directory / f"{digest}{_SUFFIX}"

    def add(self, credential: Mapping[str, Any]) -> str:
        """Store a signed credential (a W3C VC document); returns its hash. Adding it again
        rewrites the same file."""
        if not isinstance(credential, Mapping) or "credentialSubject" not in credential:
            raise BadRequest("not a verifiable credential (no credentialSubject)")
        digest = compute_credential_id(credential)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(digest)
        text = json.dumps(credential, indent=2, ensure_ascii=False) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path, 0o600)
        return digest

    def hashes(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name[: -len(_SUFFIX)] for p in self.directory.glob(f"*{_SUFFIX}"))

    def resolve(self, ref: str) -> str:
        """The full hash of a stored credential from its hash or a unique prefix of it."""
        ref = ref.lower()
        matches = [h for h in self.hashes() if h.startswith(ref)] if ref else []
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(
                f"no credential {ref!r} in the wallet {self.directory}",
                hint="`govchain cert wallet list` shows the stored credentials.",
            )
        raise BadRequest(f"{ref!r} matches {len(matches)} credentials; give more of the hash")

    def get(self, ref: str) -> dict[str, Any]:
        path = self._path(self.resolve(ref))
        try:
            value: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BadRequest(f"cannot read {path}: {exc}") from None
        return value

    def list(self) -> list[WalletEntry]:
        return [describe(self.get(digest), digest) for digest in self.hashes()]

    def remove(self, ref: str) -> str:
        digest = self.resolve(ref)
        self._path(digest).unlink()
        return digest

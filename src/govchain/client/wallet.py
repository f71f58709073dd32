"""A holder's wallet: signed credentials kept as files in one directory.

Two kinds are kept, each named by its hash:

* W3C credentials as ``<credential hash>.json`` (the hash is the credential's anchor id,
  :func:`~govchain.credentials.vc.compute_credential_id`);
* SD-JWT credentials (RFC 9901, issued by ``govchain cert sd-issue`` or imported) as
  ``<hash>.sdjwt``, the hash being SHA-256 of the issuer-signed JWT, so re-importing the same
  credential rewrites the same file.

A credential may carry an alias (``aliases.json``: alias -> hash), and is found by its alias, its
hash or a unique prefix of the hash. Files are readable by their owner only (mode 0600, the
directory 0700). The default directory is ``~/.govchain/wallet``; env ``GOVCHAIN_WALLET`` or an
explicit path overrides it.

>>> wallet = Wallet.open()
>>> digest = wallet.add(vc, alias="licence")
>>> wallet.add(sd_jwt_text, alias="id-card")
>>> [(entry.format, entry.credential_type) for entry in wallet.list()]
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from govchain.credentials.jose import JoseFailure, split_compact
from govchain.credentials.vc import compute_credential_id
from govchain.errors import BadRequest, NotFound

__all__ = [
    "WALLET_ENV",
    "Wallet",
    "WalletEntry",
    "WalletItem",
    "compute_sd_jwt_id",
    "default_wallet_dir",
    "describe",
    "describe_sd_jwt",
]

WALLET_ENV = "GOVCHAIN_WALLET"
CredentialFormat = Literal["vc", "sd-jwt"]
_SUFFIXES: dict[CredentialFormat, str] = {"vc": ".json", "sd-jwt": ".sdjwt"}
_ALIASES = "aliases.json"
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,63}")


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
    format: CredentialFormat = "vc"
    alias: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "format": self.format,
            "alias": self.alias,
            "type": self.credential_type,
            "issuer": self.issuer,
            "subject_id": self.subject_id,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }


@dataclass(frozen=True, slots=True)
class WalletItem:
    """A stored credential: a W3C document (``vc``) or SD-JWT text (``sd_jwt``)."""

    hash: str
    format: CredentialFormat
    vc: dict[str, Any] | None = None
    sd_jwt: str | None = None


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


def _sd_jwt_payload(text: str) -> dict[str, Any]:
    issuer_jwt = text.split("~", 1)[0]
    if "~" not in text:
        raise BadRequest("not an SD-JWT: <issuer-JWT>~<disclosure>~...~")
    try:
        _, payload = split_compact(issuer_jwt)
    except JoseFailure as exc:
        raise BadRequest(f"not an SD-JWT: {exc}") from None
    return payload


def _stamp(seconds: Any) -> str | None:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        return None
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_sd_jwt(text: str, digest: str) -> WalletEntry:
    """What the issuer-signed part of an SD-JWT says openly (claims hidden behind disclosures
    are not read)."""
    payload = _sd_jwt_payload(text)
    issuer = payload.get("iss")
    subject = payload.get("sub") or payload.get("id")
    return WalletEntry(
        hash=digest,
        credential_type=str(payload.get("vct") or "SD-JWT"),
        issuer=str(issuer) if isinstance(issuer, str) else "-",
        subject_id=subject if isinstance(subject, str) else None,
        valid_from=_stamp(payload.get("nbf", payload.get("iat"))),
        valid_until=_stamp(payload.get("exp")),
        format="sd-jwt",
    )


def compute_sd_jwt_id(text: str) -> str:
    """The wallet's name for an SD-JWT: SHA-256 (hex) of its issuer-signed JWT."""
    return hashlib.sha256(text.split("~", 1)[0].encode()).hexdigest()


class Wallet:
    """A directory of credentials named by their hashes, with optional aliases."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def open(cls, directory: Path | None = None) -> Wallet:
        return cls(directory if directory is not None else default_wallet_dir())

    def _path(self, digest: str, fmt: CredentialFormat) -> Path:
        return self.directory / f"{digest}{_SUFFIXES[fmt]}"

    def _write(self, path: Path, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path, 0o600)

    def add(self, credential: Mapping[str, Any] | str, *, alias: str | None = None) -> str:
        """Store a signed W3C credential (a JSON object) or an SD-JWT (its text); returns its
        hash. Adding it again rewrites the same file."""
        fmt: CredentialFormat
        if isinstance(credential, str):
            text = credential.strip()
            _sd_jwt_payload(text)
            digest, fmt, body = compute_sd_jwt_id(text), "sd-jwt", text + "\n"
        elif isinstance(credential, Mapping) and "credentialSubject" in credential:
            digest, fmt = compute_credential_id(credential), "vc"
            body = json.dumps(credential, indent=2, ensure_ascii=False) + "\n"
        else:
            raise BadRequest("not a verifiable credential (no credentialSubject) nor an SD-JWT")
        if alias is not None:
            self._check_alias(alias, digest)
        self._write(self._path(digest, fmt), body)
        if alias is not None:
            self._save_aliases({**self._load_aliases(), alias: digest})
        return digest

    # --- aliases ---------------------------------------------------------------------------

    def _load_aliases(self) -> dict[str, str]:
        path = self.directory / _ALIASES
        if not path.is_file():
            return {}
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BadRequest(f"cannot read {path}: {exc}") from None
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    def _save_aliases(self, aliases: Mapping[str, str]) -> None:
        self._write(self.directory / _ALIASES, json.dumps(dict(sorted(aliases.items())), indent=2))

    def _check_alias(self, alias: str, digest: str) -> None:
        if not _ALIAS.fullmatch(alias):
            raise BadRequest(
                f"alias {alias[:70]!r} is not allowed",
                hint="Use 1-64 letters, digits and . _ -, starting with a letter.",
            )
        taken = self._load_aliases().get(alias)
        if taken is not None and taken != digest:
            raise BadRequest(
                f"alias {alias!r} already names {taken[:16]}…",
                hint="Choose another alias, or remove that credential first.",
            )

    def set_alias(self, ref: str, alias: str) -> str:
        digest = self.resolve(ref)
        self._check_alias(alias, digest)
        self._save_aliases({**self._load_aliases(), alias: digest})
        return digest

    # --- reading ---------------------------------------------------------------------------

    def _stored(self) -> dict[str, CredentialFormat]:
        if not self.directory.is_dir():
            return {}
        found: dict[str, CredentialFormat] = {}
        for fmt, suffix in _SUFFIXES.items():
            for path in self.directory.glob(f"*{suffix}"):
                if path.name != _ALIASES:
                    found[path.name[: -len(suffix)]] = fmt
        return found

    def hashes(self) -> list[str]:
        return sorted(self._stored())

    def resolve(self, ref: str) -> str:
        """The full hash of a stored credential from its alias, its hash or a unique prefix of
        the hash."""
        aliased = self._load_aliases().get(ref)
        if aliased is not None and aliased in self._stored():
            return aliased
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

    def get_item(self, ref: str) -> WalletItem:
        digest = self.resolve(ref)
        fmt = self._stored()[digest]
        path = self._path(digest, fmt)
        try:
            text = path.read_text(encoding="utf-8")
            if fmt == "sd-jwt":
                return WalletItem(digest, fmt, sd_jwt=text.strip())
            return WalletItem(digest, fmt, vc=json.loads(text))
        except (OSError, json.JSONDecodeError) as exc:
            raise BadRequest(f"cannot read {path}: {exc}") from None

    def get(self, ref: str) -> dict[str, Any]:
        """A stored W3C credential."""
        item = self.get_item(ref)
        if item.vc is None:
            raise BadRequest(
                f"{ref!r} is an SD-JWT credential, not a W3C one",
                hint="Present it with `govchain cert present REF --reveal ...`.",
            )
        return item.vc

    def get_sd_jwt(self, ref: str) -> str:
        """A stored SD-JWT credential's text."""
        item = self.get_item(ref)
        if item.sd_jwt is None:
            raise BadRequest(
                f"{ref!r} is a W3C credential, not an SD-JWT",
                hint="`govchain cert wallet list` shows each credential's format.",
            )
        return item.sd_jwt

    def list(self) -> list[WalletEntry]:
        names = {digest: alias for alias, digest in self._load_aliases().items()}
        entries = []
        for digest in self.hashes():
            item = self.get_item(digest)
            if item.sd_jwt is not None:
                entry = describe_sd_jwt(item.sd_jwt, digest)
            else:
                entry = describe(item.vc or {}, digest)
            entries.append(_with_alias(entry, names.get(digest)))
        return entries

    def remove(self, ref: str) -> str:
        digest = self.resolve(ref)
        self._path(digest, self._stored()[digest]).unlink()
        aliases = self._load_aliases()
        if any(v == digest for v in aliases.values()):
            self._save_aliases({k: v for k, v in aliases.items() if v != digest})
        return digest


def _with_alias(entry: WalletEntry, alias: str | None) -> WalletEntry:
    return entry if alias is None else replace(entry, alias=alias)

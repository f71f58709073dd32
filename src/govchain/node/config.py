"""Network directories, key files and node configuration.

A network directory (``govchain init``) holds::

    genesis.json                 chain id, founding organisations, nodes, parameters
    orgs/<org>/admin.key         each organisation's admin key (mode 0600)
    nodes/<node>/node.key        the node's block-signing key (mode 0600)
    nodes/<node>/config.json     host, port, storage and mempool settings; for a multi-node
                                 network also the etcd cluster, TLS and the other peers' URLs
    nodes/<node>/data/           the node's ledger (created on first start)
    etcd/cluster.json            (``govchain network up``) the local etcd members
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

import msgspec

from govchain.crypto.signing import KeyPair, get_scheme
from govchain.errors import ConfigError
from govchain.types import Genesis

__all__ = [
    "ApiTls",
    "EtcdSettings",
    "KeyFile",
    "NodeConfig",
    "load_genesis",
    "load_key",
    "load_node_config",
    "node_dir",
    "save_genesis",
    "save_key",
    "save_node_config",
]


class KeyFile(msgspec.Struct, forbid_unknown_fields=True):
    scheme: str
    public_key: str
    seed: str
    org: str = ""
    role: str = ""


class EtcdSettings(msgspec.Struct, forbid_unknown_fields=True):
    """The etcd cluster that orders a multi-node network's blocks. With TLS, ``ca_file``
    verifies the members' certificates; ``cert_file``/``key_file`` authenticate this peer when
    the cluster demands client certificates (``--client-cert-auth``). Relative paths are
    relative to the node directory."""

    endpoints: list[str]  # client URLs of the members, e.g. https://etcd1.city.example:2379
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    timeout_s: float = 5.0  # one request to one member
    retain_blocks: int = 1000  # log entries kept in etcd below the finalized height
    compact_every: int = 256  # finalized blocks between two compactions of the log


class ApiTls(msgspec.Struct, forbid_unknown_fields=True):
    """TLS for the node's HTTP API (uvicorn's ssl options); ``ca_file`` with
    ``require_client_cert`` demands client certificates signed by that CA."""

    cert_file: str
    key_file: str
    ca_file: str | None = None
    require_client_cert: bool = False


class NodeConfig(msgspec.Struct, forbid_unknown_fields=True):
    node_id: str
    host: str = "127.0.0.1"
    port: int = 8700
    storage: str = "data/ledger.db"  # relative to the node directory; "memory:" for tests
    durable: bool = True  # fsync every block
    mempool_max_txs: int = 20_000
    mempool_max_bytes: int = 64 * 1024 * 1024
    log_level: str = "info"
    # signed API requests: accepted clock skew either way, and nonces remembered per window
    auth_window_ms: int = 30_000
    auth_nonce_capacity: int = 200_000
    # multi-node: order on etcd (None: the solo orderer), the other peers' API URLs (to catch
    # up from their block stores), and TLS for this node's API
    etcd: EtcdSettings | None = None
    peers: list[str] = []
    tls: ApiTls | None = None
    # testing only: attest a wrong state root, to show that a faulty peer is detected and
    # cannot make a finality certificate form
    faulty_attestations: bool = False
    # the web console's ledger pages (blocks, transactions, organisations' members): "off" leaves
    # them to members, through the signed API; "public" opens them to everyone (a demo network)
    console_ledger: Literal["off", "public"] = "off"

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"


def node_dir(network_dir: Path, node_id: str) -> Path:
    return network_dir / "nodes" / node_id


def _read_json(path: Path, type_: type[msgspec.Struct]) -> msgspec.Struct:
    try:
        return msgspec.json.decode(path.read_bytes(), type=type_)
    except FileNotFoundError:
        raise ConfigError(
            f"{path} does not exist", hint="Create the network with `govchain init --dir DIR`."
        ) from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"{path} is invalid: {exc}") from exc


def _write_json(path: Path, value: msgspec.Struct, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(msgspec.to_builtins(value), indent=2, ensure_ascii=False) + "\n"
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(data)
    os.replace(tmp, path)


def load_genesis(network_dir: Path) -> Genesis:
    genesis = _read_json(network_dir / "genesis.json", Genesis)
    assert isinstance(genesis, Genesis)
    return genesis


def save_genesis(network_dir: Path, genesis: Genesis) -> None:
    _write_json(network_dir / "genesis.json", genesis)


def load_key(path: Path) -> KeyPair:
    kf = _read_json(path, KeyFile)
    assert isinstance(kf, KeyFile)
    try:
        pair = get_scheme(kf.scheme).from_seed(bytes.fromhex(kf.seed))
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{path} does not hold a valid key: {exc}") from exc
    if pair.public_key.hex() != kf.public_key:
        raise ConfigError(f"{path}: the public key does not match the seed")
    return pair


def save_key(path: Path, pair: KeyPair, *, org: str = "", role: str = "") -> None:
    _write_json(
        path, KeyFile(pair.scheme, pair.public_key.hex(), pair.seed.hex(), org, role), private=True
    )


def load_node_config(network_dir: Path, node_id: str) -> NodeConfig:
    cfg = _read_json(node_dir(network_dir, node_id) / "config.json", NodeConfig)
    assert isinstance(cfg, NodeConfig)
    return cfg


def save_node_config(network_dir: Path, cfg: NodeConfig) -> None:
    _write_json(node_dir(network_dir, cfg.node_id) / "config.json", cfg)

"""Start and stop the processes of a local network: etcd members and peers.

``govchain network up`` and the multi-node tests use these. Every process runs in its own process
group (a signal to the CLI does not reach it), writes its log under ``DIR/logs/`` and its pid to
``DIR/run/<name>.pid``; stopping sends SIGTERM, waits, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import msgspec

from govchain.errors import ConfigError, GovchainError

__all__ = [
    "EtcdCluster",
    "EtcdMember",
    "EtcdNotInstalled",
    "ProcessStartFailed",
    "etcd_command",
    "find_etcd",
    "is_running",
    "load_cluster",
    "peer_command",
    "pid_path",
    "read_pid",
    "save_cluster",
    "spawn",
    "stop_pid",
]

ETCD_ENV = "GOVCHAIN_ETCD"  # the etcd binary, when it is not on PATH


class EtcdNotInstalled(ConfigError):
    code = "ETCD_NOT_INSTALLED"
    title = "etcd is not installed"
    default_hint = (
        "Install it with `sudo bash scripts/deps/etcd.sh` (Debian's etcd-server), or set "
        f"{ETCD_ENV} to the etcd binary."
    )


class ProcessStartFailed(GovchainError):
    code = "PROCESS_START_FAILED"
    status = 500
    title = "A process of the network did not start"
    default_hint = "Read its log (named in the message), fix the cause and run the command again."


class EtcdMember(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    client_port: int
    peer_port: int
    host: str = "127.0.0.1"
    tls: bool = False  # clients and members over TLS with client certificates (pki.py)

    @property
    def client_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.peer_port}"


class EtcdCluster(msgspec.Struct, forbid_unknown_fields=True):
    token: str
    members: list[EtcdMember]

    @property
    def endpoints(self) -> list[str]:
        return [m.client_url for m in self.members]

    @property
    def initial_cluster(self) -> str:
        return ",".join(f"{m.name}={m.peer_url}" for m in self.members)


def save_cluster(network_dir: Path, cluster: EtcdCluster) -> None:
    path = network_dir / "etcd" / "cluster.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(cluster)) + b"\n")


def load_cluster(network_dir: Path) -> EtcdCluster | None:
    path = network_dir / "etcd" / "cluster.json"
    if not path.exists():
        return None
    return msgspec.json.decode(path.read_bytes(), type=EtcdCluster)


def find_etcd() -> str:
    """The etcd binary: ``$GOVCHAIN_ETCD``, else ``etcd`` on PATH."""
    found = os.environ.get(ETCD_ENV) or shutil.which("etcd")
    if not found or not os.access(found, os.X_OK):
        raise EtcdNotInstalled("no etcd binary found")
    return found


def etcd_command(
    member: EtcdMember, cluster: EtcdCluster, data_dir: Path, network_dir: Path | None = None
) -> list[str]:
    """The command line of one member of a loopback cluster. A member with ``tls`` serves
    clients and members over TLS and demands certificates of both, signed by the network's CA
    (``network_dir``'s files, :mod:`govchain.node.pki`)."""
    return [
        find_etcd(),
        "--name",
        member.name,
        "--data-dir",
        str(data_dir),
        "--listen-client-urls",
        member.client_url,
        "--advertise-client-urls",
        member.client_url,
        "--listen-peer-urls",
        member.peer_url,
        "--initial-advertise-peer-urls",
        member.peer_url,
        "--initial-cluster",
        cluster.initial_cluster,
        "--initial-cluster-token",
        cluster.token,
        "--initial-cluster-state",
        "new",
        "--auto-compaction-mode",
        "revision",
        "--auto-compaction-retention",
        "20000",
        "--logger",
        "zap",
        "--log-level",
        "warn",
        *_etcd_tls_flags(member, network_dir),
    ]


def _etcd_tls_flags(member: EtcdMember, network_dir: Path | None) -> list[str]:
    if not member.tls:
        return []
    if network_dir is None:
        raise ConfigError(f"etcd member {member.name} uses TLS: its network directory is needed")
    from govchain.node.pki import CA_FILE, etcd_cert_paths

    cert, key = etcd_cert_paths(network_dir, member.name)
    ca = str(network_dir / CA_FILE)
    return [
        *("--cert-file", str(cert), "--key-file", str(key)),
        *("--client-cert-auth", "--trusted-ca-file", ca),
        *("--peer-cert-file", str(cert), "--peer-key-file", str(key)),
        *("--peer-client-cert-auth", "--peer-trusted-ca-file", ca),
    ]


def pid_path(network_dir: Path, name: str) -> Path:
    return network_dir / "run" / f"{name}.pid"


def spawn(
    command: list[str], log_path: Path, pid_file: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, appending its output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
    if pid_file is not None:
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(f"{process.pid}\n", encoding="utf-8")
    return process


def peer_command(network_dir: Path, node_id: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "govchain",
        "node",
        "start",
        "--dir",
        str(network_dir),
        "--node",
        node_id,
    ]


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state(pid) != "Z"


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[0]


def stop_pid(pid: int, timeout: float = 15.0) -> bool:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL. True if it had to be killed."""
    if not is_running(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if _wait_gone(pid, timeout):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _wait_gone(pid, timeout)
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not is_running(pid):
            return True
        time.sleep(0.05)
    return False


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)

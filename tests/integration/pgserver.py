"""A throwaway PostgreSQL cluster for integration tests: initdb and pg_ctl in a temporary
directory, listening on a free loopback port, trust authentication, always stopped and removed.

PostgreSQL refuses to run as root; as root the cluster is created and run as the ``postgres``
system user (the Debian package creates it) through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .nodeproc import free_port

USER = "gateway"
START_TIMEOUT_S = 60


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl (newest major version first)."""
    override = os.environ.get("GOVCHAIN_PG_BIN")
    candidates = [override] if override else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PostgresServer:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="govchain-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self.started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False
        )

    def start(self) -> PostgresServer:
        if self.run_as is not None:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        result = self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8")
        if result.returncode != 0:
            pytest.fail(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} -c fsync=off"
        result = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )
        if result.returncode != 0:
            pytest.fail(
                f"pg_ctl start failed:\n{result.stdout}\n{result.stderr}\n{self.read_log()}"
            )
        self.started = True
        return self

    def read_log(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the whole test run (skipped when PostgreSQL is not
    installed: `scripts/deps/postgres.sh` installs it); always stopped and removed."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (scripts/deps/postgres.sh installs it)")
    server = PostgresServer(bin_dir)
    try:
        yield server.start()
    finally:
        server.stop()

"""A throw-away PostgreSQL cluster for tests: created in a temporary folder, served on a free
loopback port, stopped and removed at the end.

The server comes from the machine's PostgreSQL (``initdb``/``pg_ctl`` on PATH or under
``/usr/lib/postgresql/*/bin``), else from the ``pgserver`` wheel when installed; PostgreSQL
refuses to run as root, so as root it runs as the ``postgres`` account (``runuser``).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def find_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    try:
        import pgserver  # noqa: F401

        found = glob.glob(str(Path(pgserver.__file__).parent / "pginstall" / "bin"))
        return Path(found[0]) if found else None
    except ImportError:
        return None


def why_unavailable() -> str | None:
    """Why no cluster can start here (None: it can)."""
    if find_bin() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) and no pgserver wheel"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' account to run the server as"
        if shutil.which("runuser") is None:
            return "running as root without runuser to run the server as 'postgres'"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One server; ``url(db)`` is the SQLAlchemy URL of database ``db`` (made by ``create``)."""

    def __init__(self):
        self.bin = find_bin()
        self.root = Path(tempfile.mkdtemp(prefix="cellsort-pg-"))
        self.data, self.port, self.user = self.root / "data", free_port(), "cellsort"
        self.log = self.root / "server.log"
        self._as = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.root.chmod(0o755)
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8")
        self.start()

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as, str(self.bin / tool), *args], capture_output=True, text=True,
                              check=check, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def create(self, db: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, db)
        return self.url(db)

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{db}"

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

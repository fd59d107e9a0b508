"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, pg_ctl start on
a free port of 127.0.0.1 with its socket in that folder, dropped afterwards (about a second).

Debian's packages put the binaries under /usr/lib/postgresql/<version>/bin; as root, initdb
and pg_ctl run as the ``postgres`` user (initdb refuses root). ``make test`` installs the
packages when they are missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """``url``: postgresql://monitor@127.0.0.1:<port>/monitor (trust authentication)."""

    def __init__(self) -> None:
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (make test installs it)")
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
        self.port = _free_port()
        self.root = os.geteuid() == 0
        if self.root:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            "monitor",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        # a user that must give its password over TCP (the others are trusted)
        hba = data / "pg_hba.conf"
        hba.write_text(
            "host all desk 127.0.0.1/32 scram-sha-256\n" + hba.read_text(), encoding="utf-8"
        )
        self.resume()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "monitor", "monitor")
        self.url = f"postgresql://monitor@127.0.0.1:{self.port}/monitor"
        self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "monitor",
            "-d",
            "monitor",
            "-c",
            "CREATE ROLE desk LOGIN PASSWORD 'right-password'",
        )

    def resume(self) -> None:
        """Start the server (again, after ``pause``), on the same port."""
        options = (
            f"-F -p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        data, log = str(self.dir / "data"), str(self.dir / "log")
        self._run("pg_ctl", "-D", data, "-o", options, "-w", "-l", log, "start")

    def pause(self) -> None:
        """Stop the server, as a restart or a failover would (connections are dropped)."""
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def database(self, name: str) -> str:
        """A database of this name in the cluster (created when new); its URL."""
        try:
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "monitor", name)
        except subprocess.CalledProcessError as e:
            if b"already exists" not in (e.stderr or b""):
                raise
        return f"postgresql://monitor@127.0.0.1:{self.port}/{name}"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

"""Compiled rules kept on disk: the engine (automaton, lexicon, aliases) pickled under a key.

The key is a hash of everything the compiler reads — the actors, rules, keyword sets,
conflict vocabulary and parser settings, as validated — together with the package's version
and the source of ``monitor.match`` (a checkout that changes the matcher changes the key, a
version number that did not move notwithstanding). A file is used only when its key is the
key of the rules now, it unpickles to an engine, and it belongs to this user and nobody else
may write it (a pickle runs code as it loads: a file anyone could have written is not read).
Anything else — no file, another key, a truncated or corrupt file — is rebuilt by the caller
and written again, atomically; the cache is never trusted over the rules.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import monitor

if TYPE_CHECKING:
    from monitor.match.engine import Engine

#: the file's first line: what it is and the layout's version
MAGIC = b"monitor compiled rules 1\n"
_KEY_LENGTH = 64  # hex digits of a SHA-256

#: the settings the compiler reads (``compiler.compile_rules``)
COMPILED_FROM = ("actors", "rules", "keywords", "conflict", "nlp")


def key_of(settings: Any) -> str:
    """The hash of what the compiled engine depends on."""
    h = hashlib.sha256(MAGIC)
    h.update(monitor.__version__.encode())
    h.update(_matcher_source())
    for part in COMPILED_FROM:
        dumped = settings.model_dump(mode="json", include={part})
        h.update(json.dumps(dumped, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


@functools.cache
def _matcher_source() -> bytes:
    """A digest of the matcher's own code (every module of ``monitor.match``)."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.digest()


def load(path: Path, key: str) -> Engine | None:
    """The engine kept at ``path`` under ``key``; None when there is none to trust."""
    try:
        with open(path, "rb") as f:
            if not _ours(os.fstat(f.fileno())):
                return None
            data = f.read()
    except OSError:
        return None
    head = len(MAGIC) + _KEY_LENGTH + 1
    if data[: len(MAGIC)] != MAGIC or data[len(MAGIC) : head] != f"{key}\n".encode():
        return None  # another layout, or other rules
    try:
        engine = pickle.loads(data[head:])
    except Exception:  # truncated, corrupt, or written by code that has since changed
        return None
    from monitor.match.engine import Engine

    return engine if isinstance(engine, Engine) else None


def holds(path: Path, key: str) -> bool:
    """Is a compilation of these rules kept at ``path`` (its head read, not its body: a
    body that turns out spoiled when it is loaded is compiled again then)?"""
    try:
        with open(path, "rb") as f:
            if not _ours(os.fstat(f.fileno())):
                return False
            head = f.read(len(MAGIC) + _KEY_LENGTH + 1)
    except OSError:
        return False
    return head == MAGIC + f"{key}\n".encode()


def save(path: Path, key: str, engine: Engine) -> bool:
    """Keep ``engine`` at ``path`` under ``key`` (readable by this user only), replacing what
    was there in one step; False when it cannot be written (a read-only folder: the rules are
    simply compiled at each start)."""
    try:
        data = pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except (OSError, pickle.PicklingError):
        return False
    try:
        with os.fdopen(fd, "wb") as f:  # mkstemp's file is this user's, mode 0600
            f.write(MAGIC + f"{key}\n".encode() + data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def _ours(st: os.stat_result) -> bool:
    """A regular file of this user's that no one else may write."""
    return (
        stat.S_ISREG(st.st_mode)
        and st.st_uid == os.geteuid()
        and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )

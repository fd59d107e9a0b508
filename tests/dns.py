"""A DNS server on 127.0.0.1 for the tests: answers A queries from a table, so that a name can
resolve to one address and then to another (as a rebinding attacker's server does)."""

from __future__ import annotations

import socket
import struct
import threading


class DNSServer:
    """UDP on 127.0.0.1. ``answers``: name → addresses; each A query for a name takes the
    next one (the last one repeats). Other names: NXDOMAIN; other types: no answer."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = {k.lower().rstrip("."): list(v) for k, v in answers.items()}
        #: (name, type) of every query, in order
        self.queries: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                data, peer = self._sock.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self._reply(data)
            if reply:
                self._sock.sendto(reply, peer)

    def _reply(self, query: bytes) -> bytes | None:
        if len(query) < 17:
            return None
        qid = struct.unpack("!H", query[:2])[0]
        pos, labels = 12, []
        while pos < len(query) and query[pos]:
            n = query[pos]
            labels.append(query[pos + 1 : pos + 1 + n].decode("ascii", "replace"))
            pos += n + 1
        qtype = struct.unpack("!H", query[pos + 1 : pos + 3])[0]
        question = query[12 : pos + 5]
        name = ".".join(labels).lower()
        answer = b""
        with self._lock:
            self.queries.append((name, qtype))
            known = name in self.answers
            if known and qtype == 1:  # A
                table = self.answers[name]
                address = table.pop(0) if len(table) > 1 else table[0]
                # a pointer to the question's name, type A, class IN, TTL 0 (no caching)
                answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 0, 4) + socket.inet_aton(address)
        flags = 0x8180 | (0 if known else 3)  # a response, recursion available; NXDOMAIN
        header = struct.pack("!HHHHHH", qid, flags, 1, 1 if answer else 0, 0, 0)
        return header + question + answer

    def close(self) -> None:
        self._stopped.set()
        self._sock.close()
        self._thread.join(timeout=2)

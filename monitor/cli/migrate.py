"""``monitor migrate --to URL``: the configured database copied into another (SQLite to
PostgreSQL, as a desk outgrows one machine): sources and their state, articles, stories,
matches, alerts and their deliveries, notices. The source database stays as it was."""

from __future__ import annotations

import sys

from monitor import config as configmod
from monitor.cli.common import EXIT_OK, EXIT_PROBLEMS, plural
from monitor.daemon.instance import InstanceLock
from monitor.store import open_store
from monitor.store.sql.store import SQLStore
from monitor.store.sql.transfer import copy_all


async def migrate(loaded: configmod.LoadedConfig, target_url: str) -> int:
    url = loaded.settings.storage.url
    if target_url == url:
        print("error: --to names the configured database itself", file=sys.stderr)
        return EXIT_PROBLEMS
    # nothing may write the source meanwhile: a running daemon (or once) stops the copy
    lock = await InstanceLock.acquire(url, "migrate", config=str(loaded.path.resolve()))
    try:
        source = await open_store(url)
        try:
            target = await open_store(target_url)
            try:
                if not (isinstance(source, SQLStore) and isinstance(target, SQLStore)):
                    print("error: both databases must be SQL stores", file=sys.stderr)
                    return EXIT_PROBLEMS
                counts = await copy_all(source, target)
            finally:
                await target.close()
        finally:
            await source.close()
    finally:
        if lock is not None:
            await lock.release()
    # the alerts table holds one row per alert and channel: deliveries, not alerts
    names = {
        "alerts": ("alert delivery", "alert deliveries"),
        "stories": ("story", "stories"),
        "matches": ("match", "matches"),
        "deliveries": ("delivery attempt", "delivery attempts"),
        "evidence": ("evidence copy", "evidence copies"),
    }
    shown = ", ".join(plural(n, *names.get(t, (t.rstrip("s"), t))) for t, n in counts.items() if n)
    where = target_url.split("@")[-1]  # never the password
    print(f"copied into {where}: {shown or 'nothing (the database was empty)'}")
    print("now set storage.url to the new database; the old one is left as it was")
    return EXIT_OK

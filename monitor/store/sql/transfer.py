"""Moving a database to another SQL store (``monitor migrate --to postgresql://…``): every
table copied in order of reference, ids kept (alerts stay pending or sent, stories keep their
threads), in batches, into an empty target whose schema is current."""

from __future__ import annotations

from collections.abc import Callable

from monitor.errors import StorageError
from monitor.store.sql.store import SQLStore

#: in the order that references allow (a row's references are copied before it)
TABLES = (
    "sources",
    "articles",
    "stories",
    "matches",
    "alerts",
    "deliveries",
    "page_blocks",
    "revisions",
    "evidence",
    "notices",
    "link_failures",
)
BATCH = 1000


async def copy_all(
    source: SQLStore, target: SQLStore, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every row of ``source`` into ``target`` (which must hold none); rows per table."""
    await source.flush()
    for table in TABLES:
        rows = list(await target._db.execute_fetchall(f"SELECT 1 FROM {table} LIMIT 1"))
        if rows:
            raise StorageError(
                f"the target database already holds {table}: migrate into an empty database"
            )
    counts: dict[str, int] = {}
    for table in TABLES:
        counts[table] = 0
        offset = 0
        while True:
            batch = list(
                await source._db.execute_fetchall(
                    f"SELECT * FROM {table} ORDER BY 1 LIMIT ? OFFSET ?", (BATCH, offset)
                )
            )
            if not batch:
                break
            columns = list(batch[0].keys())
            marks = ", ".join("?" * len(columns))
            async with target._transaction() as db:
                await db.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [tuple(r[c] for c in columns) for r in batch],
                )
            offset += len(batch)
            counts[table] += len(batch)
            if progress is not None:
                progress(table, counts[table])
    await target.after_import(TABLES)
    return counts

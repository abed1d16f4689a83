"""Bulk loading shared by the generators: secondary indexes (and, on PostgreSQL, foreign keys)
set aside while rows stream in, then rebuilt from the definitions the app created, and the
columns a loader does not write filled with their model defaults."""
from __future__ import annotations

import multiprocessing
from collections import deque
from decimal import Decimal


def default_tails(table, written: tuple[str, ...], *, computed: tuple[str, ...] = ()) -> list[tuple[str, object]]:
    """The columns of `table` beyond `written`, each with the value to write: None for
    `computed` ones (the caller fills them), the model's plain default for NOT NULL ones,
    nothing (NULL) for nullable ones. Fails clearly if a NOT NULL column has no usable default."""
    extra: list[tuple[str, object]] = []
    for column in table.c:
        if column.name in written or (column.primary_key and column.autoincrement and column.name == "id"):
            continue
        if column.name in computed:
            extra.append((column.name, None))
        elif not column.nullable:
            default = column.default
            if default is not None and default.is_scalar:
                value = default.arg
                value = bool(value) if isinstance(value, bool) else str(value) if isinstance(value, str) else value
                if isinstance(value, Decimal):  # neither sqlite3 nor COPY text takes a Decimal object
                    value = str(value)
                extra.append((column.name, value))
            elif default is not None and default.is_callable and default.arg.__name__ == "dict":
                extra.append((column.name, "{}"))
            elif default is not None and default.is_callable and default.arg.__name__ == "list":
                extra.append((column.name, "[]"))
            elif column.server_default is None:
                raise SystemExit(f"{table.name}.{column.name}: NOT NULL without a default; teach the loader")
    return extra


def sqlite_bulk_connection(path: str):
    """A connection that writes as fast as SQLite can (no journal, no sync, no FK checks): the
    load is all-or-nothing anyway."""
    import sqlite3

    con = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-2000000", "temp_store=MEMORY",
                   "locking_mode=EXCLUSIVE", "foreign_keys=OFF"):
        con.execute(f"PRAGMA {pragma}")
    return con


def sqlite_drop_indexes(con, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """Drop the secondary indexes of `tables`; returns their (name, CREATE statement)."""
    marks = ",".join("?" * len(tables))
    indexes = con.execute(f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
                          f"AND tbl_name IN ({marks}) ORDER BY name", tables).fetchall()
    for name, _sql in indexes:
        con.execute(f'DROP INDEX "{name}"')
    return indexes


def pg_drop_indexes_and_keys(cur, tables: tuple[str, ...]) -> tuple[list, list]:
    """Drop the non-constraint indexes and the foreign keys of `tables`; returns both, to
    restore with `pg_restore_indexes_and_keys`."""
    tables = list(tables)
    indexes = cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        "AND i.tablename = ANY(%s) AND i.indexname NOT IN (SELECT conname FROM pg_constraint "
        "WHERE contype IN ('p', 'u', 'x')) ORDER BY i.indexname", (tables,)).fetchall()
    fkeys = cur.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) ORDER BY 1, 2", (tables,)).fetchall()
    for table, name, _definition in fkeys:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    return indexes, fkeys


def pg_restore_indexes_and_keys(con, indexes: list, fkeys: list, lap) -> None:
    """Recreate the indexes (each timed through `lap`), then re-add and so validate the keys."""
    cur = con.cursor()
    for name, definition in indexes:
        cur.execute(definition)
        con.commit()
        lap(f"index {name}")
    for table, name, definition in fkeys:
        cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    con.commit()
    lap(f"re-added {len(fkeys)} foreign keys (each validated)")


def chunks_in_order(make, tasks: list, workers: int, init, ctx: dict):
    """`make(task)` for each task, from a pool of forked workers (each set up by `init(ctx)`),
    yielded in order with a bounded number in flight."""
    if workers <= 1:
        for task in tasks:
            yield make(task)
        return
    mp = multiprocessing.get_context("fork")
    with mp.Pool(workers, initializer=init, initargs=(ctx,)) as pool:
        pending: deque = deque()
        it = iter(tasks)
        for task in it:
            pending.append(pool.apply_async(make, (task,)))
            if len(pending) >= workers * 2:
                break
        while pending:
            result = pending.popleft().get()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.apply_async(make, (nxt,)))
            yield result

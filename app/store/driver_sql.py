"""Intake's inserts straight on the SQLite driver (issue 17).

SQLAlchemy Core costs about 20 µs a statement on SQLite (execution context, parameter construction, result
set-up) where the driver's own ``executemany`` costs 2 µs, and an intake runs ten of them under the writer.
:class:`DriverInsert` writes rows given as dicts with the driver's ``executemany`` inside the connection's
transaction, each value converted by its column's own bind processor (the one SQLAlchemy would apply, so the
stored bytes are the same), and falls back to Core where that would not hold: another database, rows whose
keys differ, or a column with a Python-side default the rows leave out. Errors come out as SQLAlchemy's
(``IntegrityError`` …), as from ``Connection.execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import CompileError, DBAPIError

_Processor = Callable[[Any], Any] | None


class DriverInsert:
    """``INSERT INTO table (keys …) VALUES (?, …)`` for rows given as dicts (see the module's docstring)."""

    enabled = True  # tests compare the stored bytes with the Core path by turning it off

    def __init__(self, table: Table) -> None:
        self.table = table
        self.core = insert(table)
        # (dialect, keys) -> (sql, processors), or None where Core must write the rows.
        self._prepared: dict[tuple[int, tuple[str, ...]], tuple[str, tuple[_Processor, ...]] | None] = {}

    def _prepare(self, dialect: Dialect, keys: tuple[str, ...]) -> tuple[str, tuple[_Processor, ...]] | None:
        cols = self.table.c
        if any(k not in cols for k in keys):
            return None  # let Core refuse it with its own message
        if any(c.key not in keys and (c.default is not None or c.onupdate is not None) for c in cols):
            return None  # Core fills Python-side defaults; the driver would not
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(cols[k].name) for k in keys)
        sql = f"INSERT INTO {quote(self.table.name)} ({names}) VALUES ({', '.join('?' for _ in keys)})"
        processors = tuple(cols[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys)
        return sql, processors

    def __call__(self, conn: Connection, rows: dict[str, Any] | Sequence[dict[str, Any]]) -> None:
        batch = [rows] if isinstance(rows, dict) else list(rows)
        if not batch:
            return
        dialect = conn.dialect
        keys = tuple(batch[0])
        prepared = None
        if self.enabled and dialect.name == "sqlite" and all(len(r) == len(keys) for r in batch):
            slot = (id(dialect), keys)
            if slot not in self._prepared:
                self._prepared[slot] = self._prepare(dialect, keys)
            prepared = self._prepared[slot]
        if prepared is None or any(r.keys() != batch[0].keys() for r in batch[1:]):
            conn.execute(self.core, batch)
            return
        sql, processors = prepared
        params = [
            tuple(v if p is None else p(v) for p, v in zip(processors, (r[k] for k in keys), strict=True))
            for r in batch
        ]
        driver = conn.connection.driver_connection
        assert driver is not None
        try:
            driver.executemany(sql, params)
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error) from exc


class DriverQuery:
    """A parameterless query whose columns need no result conversion (integers, text), read with the
    driver's cursor on SQLite — the audit chain's head, the last live seq; Core elsewhere."""

    enabled = True

    def __init__(self, stmt: Select[*tuple[Any, ...]]) -> None:
        self.stmt = stmt
        self._prepared: dict[int, str | None] = {}

    def _prepare(self, dialect: Dialect) -> str | None:
        # Its constants (LIMIT 1, a COALESCE default) rendered in the text: it has no parameters.
        try:
            compiled = self.stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        except CompileError:
            return None  # a real parameter: Core
        for col in self.stmt.selected_columns:
            if col.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                return None
        return str(compiled)

    def first(self, conn: Connection) -> tuple[Any, ...] | None:
        dialect = conn.dialect
        sql = None
        if self.enabled and dialect.name == "sqlite":
            if id(dialect) not in self._prepared:
                self._prepared[id(dialect)] = self._prepare(dialect)
            sql = self._prepared[id(dialect)]
        if sql is None:
            row = conn.execute(self.stmt).first()
            return None if row is None else tuple(row)
        driver = conn.connection.driver_connection
        assert driver is not None
        try:
            found = driver.execute(sql).fetchone()
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, (), exc, dialect.loaded_dbapi.Error) from exc
        return None if found is None else tuple(found)

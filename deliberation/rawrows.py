"""Model instances from hand-written SQL, for the few reads every live frame makes.

A live connect or heartbeat asks the same handful of questions thousands of times a minute
(who is behind the session, which thread and forum, which grants). Django's ORM spends about
four times the CPU of the query itself compiling each of them (measured: 2.1 ms against 0.56 ms
of CPU for the thread's row, docs/PERFORMANCE.md). :class:`RowReader` keeps what compiling
produces: the column list of a model (or some of its fields) and the converters Django applies
to each value, so a raw cursor's row becomes the same instance ``Model.from_db`` would build.

Everything else keeps using the ORM; this is for hot paths whose SQL is simple and pinned by
tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class RowReader:
    """Reads ``fields`` of ``model`` (all concrete fields by default) from a row of raw SQL.

    ``columns(alias)`` is the SELECT list for the model's table under ``alias``;
    ``build(row, start)`` turns the values at ``row[start:start + len(reader)]`` into an
    instance (fields not read are deferred, as with ``only()``).
    """

    def __init__(
        self,
        model: type[models.Model],
        connection: BaseDatabaseWrapper,
        fields: Sequence[str] | None = None,
    ) -> None:
        meta = model._meta
        chosen = (
            list(meta.concrete_fields)
            if fields is None
            else [meta.get_field(name) for name in fields]
        )
        if meta.pk not in chosen:
            chosen.append(meta.pk)
        # ``Model.from_db`` takes a subset's values in the model's field order.
        chosen.sort(key=list(meta.concrete_fields).index)
        self.model = model
        self.table = meta.db_table
        self.connection = connection
        self.fields = chosen
        self.attnames = [field.attname for field in chosen]
        self._converters = []
        for field in chosen:
            column = field.get_col(meta.db_table)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            )
            self._converters.append((column, converters))

    def __len__(self) -> int:
        return len(self.fields)

    def columns(self, alias: str) -> str:
        quote = self.connection.ops.quote_name
        return ", ".join(f"{quote(alias)}.{quote(field.column)}" for field in self.fields)

    def build(self, row: Sequence[Any], start: int = 0) -> models.Model:
        values = []
        for offset, (column, converters) in enumerate(self._converters):
            value = row[start + offset]
            for converter in converters:
                value = converter(value, column, self.connection)
            values.append(value)
        return self.model.from_db(self.connection.alias, self.attnames, values)


_readers: dict[tuple[str, type[models.Model], tuple[str, ...] | None], RowReader] = {}


def reader(
    model: type[models.Model],
    connection: BaseDatabaseWrapper,
    fields: Sequence[str] | None = None,
) -> RowReader:
    """The process's reader of ``fields`` of ``model`` on ``connection``'s database."""
    key = (connection.alias, model, None if fields is None else tuple(fields))
    found = _readers.get(key)
    if found is None:
        found = _readers[key] = RowReader(model, connection, fields)
    return found

"""
The Python contender of bench/check (issue #18): async SQLAlchemy 2.x on asyncpg
doing the work of cases 1-4 against the same PostgreSQL, one operation at a time,
on request from bench/python.ts, so the JavaScript sampler can take turns with it
call by call exactly as with the contenders in its own process.

Protocol: one JSON object per line on stdin, one JSON answer per line on stdout.
  {"op": "open", "case": "1", "url": ..., "pool": 10, "rows": N, "queries": N}
      a fresh AsyncEngine (new connections) for one epoch -> {"ok": true}
  {"op": "run"}   one operation, its untimed preparation first (case 3 truncates);
      timed here with time.perf_counter() around the awaited work only -> {"ms": x}
  {"op": "close"} dispose the engine -> {"ok": true}
  {"op": "quit"}
Errors answer {"error": "..."}. Run with .venv-bench/bin/python (scripts/bench/setup-python.sh).
"""

import asyncio
import json
import sys
import time

from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, Table, Text, insert, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ITEM_ROWS = 1000
BY_ID = text("SELECT id, title, n, score FROM irisql_bench_items WHERE id = :id")
TRUNCATE = text("TRUNCATE irisql_bench_bulk")

metadata = MetaData()
bulk = Table(
    "irisql_bench_bulk",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("title", Text, nullable=False),
    Column("n", Integer, nullable=False),
    Column("score", Float, nullable=False),
)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "irisql_bench_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    n: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)


def id_sequence():
    """The same walk over all rows as bench/fixtures.ts idSequence()."""
    i = 0

    def nxt():
        nonlocal i
        i = (i * 7 + 13) % ITEM_ROWS
        return i + 1

    return nxt


class Epoch:
    def __init__(self, req):
        self.case = req["case"]
        url = req["url"].replace("postgres://", "postgresql+asyncpg://", 1)
        # Same pool size as the JavaScript contenders, no overflow; a long pool
        # timeout because case 4 queues 10,000 checkouts on 10 connections.
        self.engine = create_async_engine(url, pool_size=req["pool"], max_overflow=0, pool_timeout=600)
        self.next_id = id_sequence()
        self.rows = [{"title": "row " + str(i), "n": i % 1000, "score": i / 3} for i in range(req.get("rows", 0))]
        self.ids = [self.next_id() for _ in range(req.get("queries", 0))]

    async def before(self):
        if self.case == "3":
            async with self.engine.begin() as conn:
                await conn.execute(TRUNCATE)

    async def run(self):
        if self.case == "1":
            # engine.execute(text(...), { id }): one pooled connection per statement.
            async with self.engine.connect() as conn:
                return (await conn.execute(BY_ID, {"id": self.next_id()})).all()
        if self.case == "2":
            # engine.session(s => s.get(items, id)): one ORM session (unit of work) per request.
            async with AsyncSession(self.engine) as session:
                return await session.get(Item, self.next_id())
        if self.case == "3":
            # insertMany: all rows in one transaction, SQLAlchemy's executemany.
            async with self.engine.begin() as conn:
                await conn.execute(insert(bulk), self.rows)
            return None
        if self.case == "4":
            return await asyncio.gather(*(self.one(i) for i in self.ids))
        raise ValueError("no SQLAlchemy contender for case " + self.case)

    async def one(self, id_):
        async with self.engine.connect() as conn:
            return (await conn.execute(BY_ID, {"id": id_})).all()


async def main():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    epoch = None

    def answer(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    while True:
        line = await reader.readline()
        if not line:
            break
        req = json.loads(line)
        op = req["op"]
        try:
            if op == "open":
                if epoch is not None:
                    await epoch.engine.dispose()
                epoch = Epoch(req)
                answer({"ok": True})
            elif op == "run":
                await epoch.before()
                t0 = time.perf_counter()
                await epoch.run()
                answer({"ms": (time.perf_counter() - t0) * 1000})
            elif op == "close":
                if epoch is not None:
                    await epoch.engine.dispose()
                    epoch = None
                answer({"ok": True})
            elif op == "quit":
                break
            else:
                answer({"error": "unknown op " + op})
        except Exception as error:  # reported to the JavaScript side, which fails the case
            answer({"error": type(error).__name__ + ": " + str(error)})
    if epoch is not None:
        await epoch.engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

"""Send every query to the database the benchmark is measuring right now.

Each table size lives in its own database, so the cases for 10, 10,000 and 1,000,000 tokens
can be interleaved round by round like all the others.
"""

import contextvars

CURRENT = contextvars.ContextVar("bench_database", default="default")


class CurrentDatabase:
    def db_for_read(self, model, **hints):
        return CURRENT.get()

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return True

"""The database cache with an increment that holds across processes.

Django's DatabaseCache increments by reading the value and writing it back (two processes can
both read 4 and both write 5), and the write gives the key the cache's default expiry, so a
window would never end while requests keep coming. Here the increment first takes the row's
write lock (an UPDATE that changes nothing: a row lock on PostgreSQL, the write lock on
SQLite), then reads and writes the value in the same transaction, leaving the expiry alone.
"""

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now


class DatabaseCounterCache(DatabaseCache):
    def __init__(self, table: str, params: dict[str, Any]) -> None:
        super().__init__(table, params)
        self.table = table

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        made = self.make_and_validate_key(key, version=version)
        database = router.db_for_write(self.cache_model_class)
        connection = connections[database]
        quote = connection.ops.quote_name
        table, cache_key, expires = quote(self.table), quote("cache_key"), quote("expires")
        moment = connection.ops.adapt_datetimefield_value(now().replace(microsecond=0, tzinfo=None))
        with transaction.atomic(using=database), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {expires} = {expires} WHERE {cache_key} = %s AND {expires} > %s",  # noqa: S608 -- quoted names
                [made, moment],
            )
            if cursor.rowcount != 1:
                raise ValueError(f"Key '{key}' not found.")
            value = self.get(key, version=version)
            if value is None:
                raise ValueError(f"Key '{key}' not found.")
            value += delta
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {quote('value')} = %s WHERE {cache_key} = %s",  # noqa: S608 -- quoted names
                [encoded, made],
            )
        return int(value)

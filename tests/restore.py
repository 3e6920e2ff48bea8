"""The database as migrations left it, put back before each transactional test
(`serialized_rollback`) in one INSERT per table instead of Django's UPDATE-then-INSERT per row.

Django's `deserialize_db_from_string` saves the ~670 rows migrations load (permissions, content
types, the vocabulary) one by one: 1,300 queries, a second or more for every live-server,
browser and gunicorn test. This does what it does, row for row: the same objects from the same
JSON, in the same transaction with constraint checks off and checked after, raw pre_save and
post_save signals in model order (the directory's version token receivers run as before), the
many-to-many links set, and any row already there (the first transactional test finds the
migrated rows) saved as Django saves it.
"""

from io import StringIO
from itertools import groupby

from django.core import serializers
from django.db import models, transaction
from django.db.backends.base.creation import BaseDatabaseCreation
from django.db.models.signals import post_save, pre_save


def _bulk_ready(model: type[models.Model]) -> bool:
    """bulk_create writes what a raw save writes: no parent table, no field that sets itself."""
    return not model._meta.parents and not any(
        getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        for field in model._meta.concrete_fields
    )


def deserialize_db_from_string(self: BaseDatabaseCreation, data: str) -> None:
    alias = self.connection.alias
    table_names = set()
    with transaction.atomic(using=alias):
        with self.connection.constraint_checks_disabled():
            loaded = serializers.deserialize("json", StringIO(data), using=alias)
            for model, group in groupby(loaded, key=lambda deserialized: type(deserialized.object)):
                table_names.add(model._meta.db_table)
                batch = list(group)
                if not _bulk_ready(model):
                    for deserialized in batch:
                        deserialized.save()
                    continue
                present = set(
                    model._base_manager.using(alias)
                    .filter(pk__in=[d.object.pk for d in batch])
                    .values_list("pk", flat=True)
                )
                new = [d for d in batch if d.object.pk not in present]
                for deserialized in batch:
                    if deserialized.object.pk in present:
                        deserialized.save()
                for deserialized in new:
                    pre_save.send(
                        sender=model, instance=deserialized.object, raw=True, using=alias, update_fields=None
                    )
                model._base_manager.using(alias).bulk_create([d.object for d in new])
                for deserialized in new:
                    deserialized.object._state.adding = False
                    deserialized.object._state.db = alias
                    post_save.send(
                        sender=model,
                        instance=deserialized.object,
                        created=True,
                        update_fields=None,
                        raw=True,
                        using=alias,
                    )
                    for accessor_name, object_list in (deserialized.m2m_data or {}).items():
                        getattr(deserialized.object, accessor_name).set(object_list)
        self.connection.check_constraints(table_names=table_names)


def install() -> None:
    BaseDatabaseCreation.deserialize_db_from_string = deserialize_db_from_string  # type: ignore[method-assign]

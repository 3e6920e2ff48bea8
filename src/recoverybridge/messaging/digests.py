"""Reminder digests: one e-mail a worker listing what is due, by pseudonymous reference only.

Each app says what is due and for whom (`Due`), which of it is still in the worker's scope,
and how to mark it reminded; this sends one digest per worker and marks the items in the same
transaction as the e-mail is queued, so an item is reminded of once, and never when the
marking rolls back.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from recoverybridge.messaging.models import MessageKind
from recoverybridge.messaging.outbox import absolute_url, send_email


@dataclass(frozen=True)
class Due:
    pk: int  # the item's id, to check scope and mark it
    worker: User  # who to remind
    line: str  # its line in the digest: a reference and a date, nothing more


def send_reminder_digests(
    due: Iterable[Due],
    *,
    in_scope: Callable[[User, list[int]], set[int]],
    mark_reminded: Callable[[list[int]], None],
    subject: Callable[[int], str],
    heading: str,
) -> int:
    """One e-mail per worker with the items still in their scope, ending with a link to the work
    queue; someone who has left the team, has no address or is inactive gets none. Returns the
    number of e-mails queued."""
    by_worker: dict[int, list[Due]] = defaultdict(list)
    for item in due:
        by_worker[item.worker.pk].append(item)
    link = absolute_url("workspace:queue")
    sent = 0
    for items in by_worker.values():
        worker = items[0].worker
        kept = in_scope(worker, [item.pk for item in items])
        items = [item for item in items if item.pk in kept]
        if not items or not worker.email or not worker.is_active:
            continue
        body = "\n".join([heading, "", *(item.line for item in items), "", f"Open your work queue: {link}"])
        with transaction.atomic():
            mark_reminded([item.pk for item in items])
            send_email([worker.email], subject(len(items)), body, kind=MessageKind.STAFF_REMINDER)
        sent += 1
    return sent

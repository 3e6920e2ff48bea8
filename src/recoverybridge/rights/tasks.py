"""Background tasks of rights, run by `manage.py db_worker` (django-tasks database backend)."""

import logging
from typing import Any

from django_tasks import task

from recoverybridge.rights import retention

log = logging.getLogger(__name__)


@task()
def apply_retention() -> dict[str, Any]:
    """Anonymise and erase what is past its retention period (rights.retention), once a day; the
    report (counts only) is kept as a RetentionRun, in the audit trail and in the log."""
    run = retention.apply()
    log.info("Retention run %s: %s", run.pk, run.report)
    return run.report

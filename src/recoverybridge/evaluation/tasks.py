"""Background builds of large evaluation reports, run by `manage.py db_worker` (django-tasks)."""

from django.contrib.auth.models import User
from django.http import QueryDict
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from recoverybridge.accounts import access
from recoverybridge.evaluation import builds


@task()
def build_report(user_id: int, query: str, language: str, key: str) -> str:
    """Build the report the user asked for (the report page's query string) and keep it in the
    cache under `key`, recording progress as each part is done. The user's scope is decided again
    here, as for any read; the cohort read is audited in their name. Returns "built" or why not."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    with translation.override(language):
        scope = access.evaluation_scope_for(user)
        form = builds.report_form(scope, QueryDict(query))
        if user is None or not scope.allowed or not form.is_valid():
            builds.record_progress(
                key, builds.Progress(failed=_("This report can no longer be built for you."))
            )
            return "refused"

        def progress(done: int, total: int, stage: str) -> None:
            builds.record_progress(key, builds.Progress(done=done, total=total, stage=stage))

        try:
            built = builds.compute(form, scope, user, progress)
        except Exception:
            builds.record_progress(
                key, builds.Progress(failed=_("The report could not be built. Please try again later."))
            )
            raise
        builds.store(key, built)
    return "built"

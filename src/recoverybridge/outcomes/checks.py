"""System check: every Questionnaire file loads and validates (see `outcomes.instruments`)."""

from typing import Any

from django.core.checks import Error, register


@register()
def questionnaires_valid(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from recoverybridge.outcomes import instruments

    return [
        Error(f"{problem.file}: {problem.reason}", id="outcomes.E001", obj=problem.file)
        for problem in instruments.problems()
    ]

"""Plain-language reading of an effect estimate: what it can claim and what it cannot.

Commissioners read the sentence, not the table, so the sentence carries the caveats: the
estimate is an association under the measured covariates, it reads as an effect only without
unmeasured confounding, the E-value says how strong such confounding would have to be, and
limited overlap or trimming narrows who the estimate is about. `reports.release` calls these
with values already released for the audience, so a sentence never shows more than the tables.
"""

from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _

# A standardised mean difference at or above this is conventionally "not balanced".
BALANCE_LIMIT = 0.1
# Scales shown in percentage points (`estimators.EffectEstimate.scale`).
RISK_SCALES = ("risk difference", "risk_difference")


@dataclass(frozen=True)
class EffectFacts:
    """What the reading of one outcome needs; labels are translated already."""

    treatment: str
    outcome: str
    scale: str  # "risk difference" (shown in percentage points) or "mean difference"
    estimand: str  # "ate" | "att"
    estimate: float
    ci_low: float
    ci_high: float
    naive: float | None = None
    naive_ci_low: float | None = None
    naive_ci_high: float | None = None
    e_value: float | None = None
    e_value_ci: float | None = None
    overlap_limited: bool = False
    trimmed: str | None = None  # how many episodes trimming left out, as released ("*" outside)
    trim: float | None = None
    largest_smd_after: float | None = None
    confidence: float = 0.95


def number(value: float, decimals: int = 1) -> str:
    """A number in the active language's format (decimal separator, grouping)."""
    return formats.number_format(
        round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True
    )


def count(value: int) -> str:
    return formats.number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)


def difference(value: float, scale: str) -> str:
    """An estimate with its sign, in percentage points for a risk difference."""
    if scale in RISK_SCALES:
        shown = number(100 * value, 1)
        return (_("+%(value)s percentage points") if value > 0 else _("%(value)s percentage points")) % {
            "value": shown
        }
    shown = number(value, 2)
    return f"+{shown}" if value > 0 else shown


def interval(low: float, high: float, scale: str) -> str:
    factor, decimals = (100.0, 1) if scale in RISK_SCALES else (1.0, 2)
    return _("%(low)s to %(high)s") % {
        "low": number(factor * low, decimals),
        "high": number(factor * high, decimals),
    }


def _estimand_phrase(estimand: str, treatment: str) -> str:
    if estimand == "att":
        return _("among the episodes that were %(treatment)s") % {"treatment": treatment.lower()}
    return _("averaged over everyone in the cohort")


def effect_reading(facts: EffectFacts) -> tuple[str, ...]:
    """The sentences, in reading order; each one a paragraph of its own."""
    level = number(100 * facts.confidence, 0)
    values = {
        "treatment": facts.treatment,
        "outcome": facts.outcome,
        "estimate": difference(facts.estimate, facts.scale),
        "interval": interval(facts.ci_low, facts.ci_high, facts.scale),
        "level": level,
        "estimand": _estimand_phrase(facts.estimand, facts.treatment),
    }
    sentences = [
        _(
            "Adjusted for the measured characteristics, the difference in “%(outcome)s” between "
            "episodes with and without “%(treatment)s” is %(estimate)s (%(level)s%% confidence "
            "interval %(interval)s), %(estimand)s."
        )
        % values
    ]
    if facts.ci_low <= 0 <= facts.ci_high:
        sentences.append(
            _(
                "We cannot tell from these data whether “%(treatment)s” makes a difference to "
                "“%(outcome)s”: the interval includes no difference at all."
            )
            % values
        )
    else:
        if facts.estimate > 0:
            text = _(
                "The whole interval is above zero: in these data “%(treatment)s” goes with a higher "
                "“%(outcome)s” than among comparable episodes without it."
            )
        else:
            text = _(
                "The whole interval is below zero: in these data “%(treatment)s” goes with a lower "
                "“%(outcome)s” than among comparable episodes without it."
            )
        sentences.append(text % values)
    sentences.append(
        _(
            "This is an association under the measured characteristics. It reads as an effect of "
            "“%(treatment)s” only if nothing unmeasured influenced both who received it and "
            "“%(outcome)s” (no unmeasured confounding); the data cannot check that assumption."
        )
        % values
    )
    sentences.extend(_e_value_sentences(facts))
    sentences.extend(_overlap_sentences(facts))
    if facts.largest_smd_after is not None and abs(facts.largest_smd_after) >= BALANCE_LIMIT:
        sentences.append(
            _(
                "After weighting, some measured characteristics still differ between the groups "
                "(largest standardised difference %(smd)s), so the adjustment is incomplete."
            )
            % {"smd": number(abs(facts.largest_smd_after), 2)}
        )
    sentences.extend(_naive_sentences(facts))
    return tuple(sentences)


def _e_value_sentences(facts: EffectFacts) -> list[str]:
    if facts.e_value is None:
        return []
    sentence = _(
        "E-value %(e_value)s: to explain the estimate away, an unmeasured factor would have to be "
        "associated with both “%(treatment)s” and “%(outcome)s” by a risk ratio of at least "
        "%(e_value)s each, beyond the measured characteristics."
    ) % {"e_value": number(facts.e_value, 2), "treatment": facts.treatment, "outcome": facts.outcome}
    if facts.e_value_ci is not None:
        if facts.e_value_ci <= 1.0:
            sentence += " " + _("The interval already includes no difference, so no such factor is needed.")
        else:
            sentence += " " + _(
                "To move the interval to include no difference, a risk ratio of %(e_value_ci)s would do."
            ) % {"e_value_ci": number(facts.e_value_ci, 2)}
    return [sentence]


def _overlap_sentences(facts: EffectFacts) -> list[str]:
    sentences = []
    if facts.overlap_limited:
        sentences.append(
            _(
                "The groups overlap only in part: some episodes had almost no chance of receiving, or of "
                "not receiving, “%(treatment)s” given their characteristics, so the estimate leans on "
                "few comparable people and the weights are unstable."
            )
            % {"treatment": facts.treatment}
        )
    if facts.trim is not None:
        sentences.append(
            _(
                "Episodes with a propensity score below %(low)s or above %(high)s were left out "
                "(%(trimmed)s), so the estimate is about people who could plausibly have gone either way."
            )
            % {
                "low": number(facts.trim, 2),
                "high": number(1 - facts.trim, 2),
                "trimmed": facts.trimmed if facts.trimmed is not None else "0",
            }
        )
    return sentences


def _naive_sentences(facts: EffectFacts) -> list[str]:
    if facts.naive is None:
        return []
    values = {"naive": difference(facts.naive, facts.scale), "treatment": facts.treatment}
    outside = not (facts.ci_low <= facts.naive <= facts.ci_high)
    flipped = (facts.naive > 0) != (facts.estimate > 0) and facts.naive != 0 and facts.estimate != 0
    if flipped and not outside:
        return [
            _(
                "The simple comparison, without adjustment, gives %(naive)s, within the adjusted "
                "interval but in the other direction from the adjusted estimate: the simple comparison "
                "misleads on its own."
            )
            % values
        ]
    if outside:
        return [
            _(
                "The simple comparison, without adjustment, gives %(naive)s, outside the adjusted "
                "interval: the episodes that received “%(treatment)s” differed from the others in the "
                "measured characteristics, so the simple comparison misleads on its own."
            )
            % values
        ]
    return [
        _(
            "The simple comparison, without adjustment, gives %(naive)s, within the adjusted interval: "
            "the measured characteristics change the picture little."
        )
        % values
    ]


def too_few_reading(outcome: str) -> tuple[str, ...]:
    return (
        _("Too few people in one of the groups to show an estimate for “%(outcome)s” outside the care team.")
        % {"outcome": outcome},
    )


def hazard_reading(treatment: str, hazard_ratio: float, ci_low: float, ci_high: float, method: str) -> str:
    values = {
        "treatment": treatment,
        "hr": number(hazard_ratio, 2),
        "low": number(ci_low, 2),
        "high": number(ci_high, 2),
        "method": method,
    }
    if ci_low <= 1.0 <= ci_high:
        return (
            _(
                "%(method)s: hazard ratio %(hr)s (%(low)s to %(high)s). We cannot tell from these data "
                "whether “%(treatment)s” changes how soon people return to use or are readmitted."
            )
            % values
        )
    if hazard_ratio < 1:
        return (
            _(
                "%(method)s: hazard ratio %(hr)s (%(low)s to %(high)s): return to use or readmission "
                "came later, on average, with “%(treatment)s”; an association, under the same "
                "assumptions as the estimates above."
            )
            % values
        )
    return (
        _(
            "%(method)s: hazard ratio %(hr)s (%(low)s to %(high)s): return to use or readmission "
            "came sooner, on average, with “%(treatment)s”; an association, under the same "
            "assumptions as the estimates above."
        )
        % values
    )


def dose_reading(dose: str, outcome: str, slope: float, ci_low: float, ci_high: float) -> str:
    values = {
        "dose": dose.lower(),
        "outcome": outcome,
        "slope": number(abs(slope), 2),
        "low": number(ci_low, 2),
        "high": number(ci_high, 2),
    }
    if ci_low <= 0 <= ci_high:
        return (
            _(
                "We cannot tell from these data whether more %(dose)s goes with a different “%(outcome)s” "
                "(change per extra unit %(low)s to %(high)s)."
            )
            % values
        )
    if slope > 0:
        text = _(
            "Each extra unit of %(dose)s goes with “%(outcome)s” %(slope)s higher (95%% confidence interval "
            "%(low)s to %(high)s), adjusted for the measured characteristics."
        )
    else:
        text = _(
            "Each extra unit of %(dose)s goes with “%(outcome)s” %(slope)s lower (95%% confidence interval "
            "%(low)s to %(high)s), adjusted for the measured characteristics."
        )
    return (
        text % values
        + " "
        + _(
            "People choose how much they take part, so this is an association, not a measured effect of the dose."
        )
    )


def mediation_reading(
    treatment: str,
    mediator: str,
    outcome: str,
    indirect: float,
    indirect_ci: tuple[float, float],
    total: float,
    total_ci: tuple[float, float],
) -> str:
    values = {
        "treatment": treatment,
        "mediator": mediator.lower(),
        "outcome": outcome,
        "indirect": number(indirect, 2),
        "indirect_low": number(indirect_ci[0], 2),
        "indirect_high": number(indirect_ci[1], 2),
        "total": number(total, 2),
        "total_low": number(total_ci[0], 2),
        "total_high": number(total_ci[1], 2),
    }
    if indirect_ci[0] <= 0 <= indirect_ci[1]:
        text = _(
            "We cannot tell from these data whether any of the difference “%(treatment)s” makes to "
            "“%(outcome)s” (%(total)s, %(total_low)s to %(total_high)s) goes through %(mediator)s "
            "(indirect part %(indirect)s, %(indirect_low)s to %(indirect_high)s)."
        )
    else:
        text = _(
            "Of the difference “%(treatment)s” makes to “%(outcome)s” (%(total)s, %(total_low)s to "
            "%(total_high)s), %(indirect)s (%(indirect_low)s to %(indirect_high)s) goes through %(mediator)s."
        )
    return (
        text % values
        + " "
        + _(
            "This reads causally only if nothing unmeasured confounds the treatment, nor the link "
            "between the mediator and the outcome (sequential ignorability)."
        )
    )

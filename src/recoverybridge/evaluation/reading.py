"""Plain-language reading of an effect estimate: what it can claim and what it cannot.

Commissioners read the sentence, not the table, so the sentence carries the caveats: the
estimate is an association under the measured covariates, it reads as an effect only without
unmeasured confounding, the E-value says how strong such confounding would have to be, and
limited overlap or trimming narrows who the estimate is about. `reports.release` calls these
with values already released for the audience, so a sentence never shows more than the tables.
"""

from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext as _

# A standardised mean difference at or above this is conventionally "not balanced".
BALANCE_LIMIT = 0.1
# How much adjustment moved the estimate from the simple comparison, relative to the simple one:
# below the first it changes the estimate little, then somewhat, considerably, greatly.
CHANGE_LITTLE = 0.10
CHANGE_SOMEWHAT = 0.25
CHANGE_CONSIDERABLY = 0.50
# E-values: below the first, a fairly weak unmeasured factor could explain the estimate away; below
# the second, one of moderate strength; at or above it, only a strong one (risk ratios of about 1.5
# and 2.5 are what epidemiologists usually call moderate and strong associations).
E_VALUE_WEAK = 1.5
E_VALUE_STRONG = 2.5
# A weighted comparison resting on fewer comparable episodes than this is said to be thin.
THIN_COMPARISON = 50
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
    support: str = "all"
    # Other adjusted methods' (estimate, low, high), by their plain label, as shown.
    others: dict[str, tuple[float | None, float | None, float | None]] = field(default_factory=dict)
    # About how many comparison episodes the weighted comparison rests on (as released).
    effective_comparison: int | str | None = None
    # Decimals of the differences as the tables show them (None: the usual 1 or 2).
    decimals: int | None = None


def number(value: float, decimals: int = 1) -> str:
    """A number in the active language's format (decimal separator, grouping)."""
    return formats.number_format(
        round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True
    )


def count(value: int) -> str:
    return formats.number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)


def difference(value: float, scale: str, decimals: int | None = None) -> str:
    """An estimate with its sign, in percentage points for a risk difference; `decimals` as the
    tables show it (by default 1 for percentage points, 2 otherwise)."""
    if scale in RISK_SCALES:
        shown = number(100 * value, 1 if decimals is None else decimals)
        return (_("+%(value)s percentage points") if value > 0 else _("%(value)s percentage points")) % {
            "value": shown
        }
    shown = number(value, 2 if decimals is None else decimals)
    return f"+{shown}" if value > 0 else shown


def interval(low: float, high: float, scale: str, decimals: int | None = None) -> str:
    factor, default = (100.0, 1) if scale in RISK_SCALES else (1.0, 2)
    decimals = default if decimals is None else decimals
    return _("%(low)s to %(high)s") % {
        "low": number(factor * low, decimals),
        "high": number(factor * high, decimals),
    }


def _estimand_phrase(estimand: str, treatment: str) -> str:
    if estimand == "att":
        return _("among the episodes that were %(treatment)s") % {"treatment": treatment.lower()}
    return _("averaged over everyone in the cohort")


def effect_reading(facts: EffectFacts) -> tuple[str, ...]:
    """The sentences, in reading order; each one a paragraph of its own. Plain words only: the
    statisticians' terms (E-value, standardised difference) are in `effect_details`."""
    level = number(100 * facts.confidence, 0)
    values = {
        "treatment": facts.treatment,
        "outcome": facts.outcome,
        "estimate": difference(facts.estimate, facts.scale, facts.decimals),
        "interval": interval(facts.ci_low, facts.ci_high, facts.scale, facts.decimals),
        "level": level,
        "estimand": _estimand_phrase(facts.estimand, facts.treatment),
    }
    sentences = [
        _(
            "Taking account of the measured differences between the groups, the difference in “%(outcome)s” "
            "between episodes with and without “%(treatment)s” is %(estimate)s (%(level)s%% confidence "
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
    sentences.extend(_naive_sentences(facts))
    sentences.extend(_agreement_sentences(facts))
    sentences.append(
        _(
            "This is an association under the measured characteristics. It reads as an effect of "
            "“%(treatment)s” only if nothing unmeasured influenced both who received it and "
            "“%(outcome)s”; the data cannot check that."
        )
        % values
    )
    sentences.extend(_robustness_sentences(facts))
    sentences.extend(_overlap_sentences(facts))
    if facts.largest_smd_after is not None and abs(facts.largest_smd_after) >= BALANCE_LIMIT:
        sentences.append(
            _(
                "After adjustment some measured characteristics still differ between the groups, so the "
                "adjustment is incomplete (see the balance table in the details)."
            )
        )
    return tuple(sentences)


def effect_details(facts: EffectFacts) -> tuple[str, ...]:
    """The reading's technical side, for the details block."""
    sentences = []
    if facts.e_value is not None:
        sentence = _(
            "E-value %(e_value)s: to explain the estimate away, an unmeasured factor would have to be "
            "associated with both “%(treatment)s” and “%(outcome)s” by a risk ratio of at least "
            "%(e_value)s each, beyond the measured characteristics."
        ) % {"e_value": number(facts.e_value, 1), "treatment": facts.treatment, "outcome": facts.outcome}
        if facts.e_value_ci is not None:
            if facts.e_value_ci <= 1.0:
                sentence += " " + _(
                    "The interval already includes no difference, so no such factor is needed."
                )
            else:
                sentence += " " + _(
                    "To move the interval to include no difference, a risk ratio of %(e_value_ci)s would do."
                ) % {"e_value_ci": number(facts.e_value_ci, 1)}
        sentences.append(sentence)
    if facts.largest_smd_after is not None:
        sentences.append(
            _(
                "Largest standardised mean difference after adjustment: %(smd)s (below 0.1 counts as balanced)."
            )
            % {"smd": number(abs(facts.largest_smd_after), 2)}
        )
    return tuple(sentences)


def change_word(naive: float, adjusted: float) -> str:
    """How much adjustment moved the estimate, relative to the simple comparison: "little",
    "somewhat", "considerably", "greatly" or "reversed" (the thresholds above)."""
    if naive != 0 and adjusted != 0 and (naive > 0) != (adjusted > 0):
        return "reversed"
    if naive == 0:
        return "little" if adjusted == 0 else "greatly"
    relative = abs(adjusted - naive) / abs(naive)
    if relative < CHANGE_LITTLE:
        return "little"
    if relative < CHANGE_SOMEWHAT:
        return "somewhat"
    if relative < CHANGE_CONSIDERABLY:
        return "considerably"
    return "greatly"


def _naive_sentences(facts: EffectFacts) -> list[str]:
    if facts.naive is None:
        return []
    word = change_word(facts.naive, facts.estimate)
    values = {
        "naive": difference(facts.naive, facts.scale, facts.decimals),
        "estimate": difference(facts.estimate, facts.scale, facts.decimals),
        "treatment": facts.treatment,
        "share": number(100 * abs(facts.estimate - facts.naive) / abs(facts.naive), 0) if facts.naive else "",
    }
    outside = not (facts.ci_low <= facts.naive <= facts.ci_high)
    if word == "reversed":
        text = _(
            "The simple comparison, without adjustment, gives %(naive)s: taking account of the measured "
            "differences reverses its direction, so the simple comparison misleads on its own."
        )
    elif word == "little":
        text = _(
            "The simple comparison, without adjustment, gives %(naive)s: taking account of the measured "
            "differences changes it little (by less than a tenth)."
        )
    elif word == "somewhat":
        text = _(
            "The simple comparison, without adjustment, gives %(naive)s: taking account of the measured "
            "differences changes it somewhat, to %(estimate)s (by about %(share)s%%)."
        )
    elif word == "considerably":
        text = _(
            "The simple comparison, without adjustment, gives %(naive)s: taking account of the measured "
            "differences changes it considerably, to %(estimate)s (by about %(share)s%%)."
        )
    else:
        text = _(
            "The simple comparison, without adjustment, gives %(naive)s: taking account of the measured "
            "differences changes it greatly, to %(estimate)s."
        )
    sentences = [text % values]
    if outside and word != "reversed":
        sentences.append(
            _(
                "The simple comparison lies outside the adjusted interval: the episodes with “%(treatment)s” "
                "differed from the others in ways that matter, so it misleads on its own."
            )
            % values
        )
    return sentences


def _agreement_sentences(facts: EffectFacts) -> list[str]:
    """Whether the other ways of adjusting land inside the main estimate's interval."""
    shown = {label: est for label, (est, _low, _high) in facts.others.items() if est is not None}
    if not shown:
        return []
    apart = [label for label, est in shown.items() if not facts.ci_low <= est <= facts.ci_high]
    if not apart:
        return [
            _(
                "The other ways of adjusting (%(methods)s) give answers within this interval: the methods agree."
            )
            % {"methods": ", ".join(label.lower() for label in shown)}
        ]
    return [
        _(
            "Not every way of adjusting agrees: %(methods)s gives an answer outside this interval, so read "
            "the estimate with care."
        )
        % {
            "methods": ", ".join(
                f"{label.lower()} ({difference(shown[label], facts.scale)})" for label in apart
            )
        }
    ]


def _robustness_sentences(facts: EffectFacts) -> list[str]:
    """How strong an unmeasured factor would have to be to explain the estimate away, in words."""
    if facts.e_value is None or facts.ci_low <= 0 <= facts.ci_high:
        return []
    if facts.e_value < E_VALUE_WEAK:
        text = _(
            "A fairly weak unmeasured factor, linked to both who received “%(treatment)s” and the outcome, "
            "could explain this difference away."
        )
    elif facts.e_value < E_VALUE_STRONG:
        text = _(
            "Only an unmeasured factor of moderate strength, linked to both who received “%(treatment)s” and "
            "the outcome, could explain this difference away."
        )
    else:
        text = _(
            "Only a strong unmeasured factor, linked to both who received “%(treatment)s” and the outcome, "
            "could explain this difference away."
        )
    return [text % {"treatment": facts.treatment}]


def _overlap_sentences(facts: EffectFacts) -> list[str]:
    sentences = []
    if facts.overlap_limited:
        sentences.append(
            _(
                "The groups overlap only in part: some episodes had almost no chance of receiving, or of "
                "not receiving, “%(treatment)s” given their characteristics, so the estimate leans on "
                "fewer comparable people."
            )
            % {"treatment": facts.treatment}
        )
    trimmed = facts.trimmed if facts.trimmed is not None else "0"
    if facts.support in ("crump", "treated") and trimmed == "0":
        sentences.append(_("Every episode had someone comparable in the other group, so none was left out."))
    elif facts.support == "crump":
        sentences.append(
            _(
                "Episodes unlike anyone in the other group were left out first (%(trimmed)s), so the estimate "
                "is about the episodes the groups have in common."
            )
            % {"trimmed": trimmed}
        )
    elif facts.support == "treated":
        sentences.append(
            _(
                "Comparison episodes unlike every episode with “%(treatment)s” were left out first "
                "(%(trimmed)s); they would have counted for almost nothing."
            )
            % {"trimmed": trimmed, "treatment": facts.treatment}
        )
    elif facts.trim is not None:
        sentences.append(
            _(
                "Episodes with a propensity score below %(low)s or above %(high)s were left out "
                "(%(trimmed)s), so the estimate is about people who could plausibly have gone either way."
            )
            % {"low": number(facts.trim, 2), "high": number(1 - facts.trim, 2), "trimmed": trimmed}
        )
    thin = facts.effective_comparison
    if isinstance(thin, int) and thin < THIN_COMPARISON:
        sentences.append(
            _(
                "The comparison rests on about %(n)s episodes that resemble those with “%(treatment)s”: "
                "the estimate is less certain than a larger comparison would make it."
            )
            % {"n": count(thin), "treatment": facts.treatment}
        )
    return sentences


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

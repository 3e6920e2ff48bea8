"""The one scoring engine, driven by an Instrument (a loaded Questionnaire file).

Answers are {linkId: value}: an option code (str) for a choice, an int for an integer, a
bool for a boolean; a repeating group's answer is a list of {child linkId: value}. Items in
plain groups are answered at the top level (linkIds are unique in a file).

`validate` rejects anything the file does not allow, naming the item; `score` applies each
scoring rule with its missing-item rule. Neither touches the database, so scoring many
responses is a tight loop (bench/outcomes.py).
"""

from collections.abc import Collection, Mapping
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from recoverybridge.outcomes.instruments import Instrument, Item, ScoreRule

Answers = Mapping[str, Any]
Scores = dict[str, Any]


def _language() -> str:
    """Messages name the item in the language they are shown in (the page's)."""
    return get_language() or "en"


class InvalidAnswers(ValueError):
    """Answers the instrument does not allow. `errors` maps each linkId to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{link}: {message}" for link, message in errors.items()))


def _check_value(item: Item, value: Any, value_sets: Mapping[str, Collection[str]]) -> str | None:
    """What is wrong with one answer to `item`, or None."""
    label = item.label(_language())
    if item.type == "choice":
        if not isinstance(value, str) or not value:
            return _("“%(item)s” needs one of its options.") % {"item": label}
        if item.options:
            if item.option(value) is None:
                return _("“%(item)s”: %(value)s is not one of its options.") % {"item": label, "value": value}
        elif item.value_set in value_sets and value not in value_sets[item.value_set]:
            return _("“%(item)s”: %(value)s is not one of its options.") % {"item": label, "value": value}
        return None
    if item.type == "boolean":
        if not isinstance(value, bool):
            return _("“%(item)s” needs yes or no.") % {"item": label}
        return None
    if item.type in ("integer", "decimal"):
        whole = item.type == "integer"
        if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
            return _("“%(item)s” needs a whole number.") % {"item": label}
        low, high = item.min_value, item.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            return _("“%(item)s” must be between %(low)s and %(high)s; %(value)s is out of range.") % {
                "item": label,
                "low": f"{low:g}" if low is not None else "…",
                "high": f"{high:g}" if high is not None else "…",
                "value": value,
            }
        return None
    return _("“%(item)s” takes no answer.") % {"item": label}


def validate(
    instrument: Instrument,
    answers: Answers,
    *,
    complete: bool = False,
    value_sets: Mapping[str, Collection[str]] | None = None,
) -> dict[str, Any]:
    """The answers, checked against the instrument; InvalidAnswers otherwise.

    Unanswered items may be left out or given as None (dropped here). With `complete`, every
    required item must be answered. `value_sets` maps an answerValueSet URL to its allowed
    codes (e.g. fellowship slugs from the directory); without it any code is accepted.
    """
    value_sets = value_sets or {}
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    by_link = instrument.by_link
    for link, value in answers.items():
        if value is None or value == "" or value == []:
            continue
        item = by_link.get(link)
        group = _repeating_group(instrument, link)
        if group is not None:
            problem, rows = _check_group(group, value, value_sets, complete)
            if problem:
                errors[link] = problem
            else:
                clean[link] = rows
            continue
        if item is None or item.group:
            errors[link] = _("%(link)s is not a question of %(title)s.") % {
                "link": link,
                "title": instrument.title(_language()),
            }
            continue
        problem = _check_value(item, value, value_sets)
        if problem:
            errors[link] = problem
        else:
            clean[link] = value
    if complete:
        for item in instrument.by_link.values():
            if item.required and not item.group and item.link_id not in clean and item.link_id not in errors:
                errors[item.link_id] = _("“%(item)s” needs an answer.") % {"item": item.label(_language())}
    if not errors:
        _check_shares(instrument, clean, errors)
    if errors:
        raise InvalidAnswers(errors)
    return clean


def _repeating_group(instrument: Instrument, link: str) -> Item | None:
    for item in instrument.items:
        if item.link_id == link and item.type == "group" and item.repeats:
            return item
        for child in item.children:
            if child.link_id == link and child.type == "group" and child.repeats:
                return child
    return None


def _check_group(
    group: Item, rows: Any, value_sets: Mapping[str, Collection[str]], complete: bool
) -> tuple[str | None, list[dict[str, Any]]]:
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        return _("“%(item)s” needs a list of rows.") % {"item": group.label(_language())}, []
    children = {child.link_id: child for child in group.children}
    clean_rows = []
    for row in rows:
        clean_row = {}
        for link, value in row.items():
            if value is None or value == "":
                continue
            child = children.get(link)
            if child is None:
                return _("%(link)s is not part of “%(item)s”.") % {
                    "link": link,
                    "item": group.label(_language()),
                }, []
            problem = _check_value(child, value, value_sets)
            if problem:
                return problem, []
            clean_row[link] = value
        if not clean_row:
            continue
        if complete:
            for child in group.children:
                if child.required and child.link_id not in clean_row:
                    return _("“%(item)s” needs an answer.") % {"item": child.label(_language())}, []
        clean_rows.append(clean_row)
    return None, clean_rows


def _check_shares(instrument: Instrument, answers: dict[str, Any], errors: dict[str, str]) -> None:
    """A part of a whole (e.g. supportive people of the network) cannot exceed the whole."""
    for rule in instrument.rules:
        if rule.method != "share":
            continue
        part, whole = rule.items
        if part in answers and whole in answers and answers[part] > answers[whole]:
            errors[part] = _("“%(part)s” cannot be more than “%(whole)s” (%(value)s).") % {
                "part": instrument.by_link[part].label(_language()),
                "whole": instrument.by_link[whole].label(_language()),
                "value": answers[whole],
            }


def _number(item: Item, value: Any) -> float:
    if item.type == "choice":
        option = item.option(value)
        assert option is not None and option.weight is not None  # checked by validate and the loader
        return option.weight
    return float(value)


def _apply(rule: ScoreRule, instrument: Instrument, answers: Answers) -> tuple[float | None, bool]:
    """One score and whether it was prorated."""
    by_link = instrument.by_link
    if rule.method == "sum" and by_link[rule.items[0]].group:
        # Items of a repeating group sum over its rows; no rows means none (e.g. no meetings).
        group = by_link[rule.items[0]].group
        links = set(rule.items)
        total = 0.0
        for row in answers.get(group, []):
            for link, value in row.items():
                if link in links:
                    total += _number(by_link[link], value)
        return total, False
    values = []
    for link in rule.items:
        value = answers.get(link)
        if value is not None:
            values.append(value if rule.method == "count-true" else _number(by_link[link], value))
    missing = len(rule.items) - len(values)
    if rule.method in ("share", "value"):
        if missing:
            return None, False
        if rule.method == "value":
            return values[0], False
        part, whole = values
        return (part / whole if whole else None), False
    if missing > rule.max_missing or not values:
        return None, False
    if rule.method == "count-true":
        return float(sum(1 for value in values if value is True)), False
    if rule.method == "mean":
        return sum(values) / len(values), False
    if rule.method == "max":
        return max(values), False
    total = sum(values)
    if missing:
        # Prorate: the mean of the answered items times the number of items.
        return round(total * len(rule.items) / len(values), 2), True
    return total, False


def score(instrument: Instrument, answers: Answers) -> Scores:
    """{score name: number or None, "flags": [flag names], "prorated": [score names]} for
    answers already checked by `validate`."""
    scores: Scores = {}
    flags: list[str] = []
    prorated: list[str] = []
    for rule in instrument.rules:
        value, was_prorated = _apply(rule, instrument, answers)
        if value is not None and value == int(value) and rule.method != "share":
            value = int(value)
        scores[rule.name] = value
        if was_prorated:
            prorated.append(rule.name)
        if (
            rule.flag
            and value is not None
            and rule.flag_at_or_above is not None
            and value >= rule.flag_at_or_above
        ):
            flags.append(rule.flag)
    scores["flags"] = flags
    scores["prorated"] = prorated
    return scores


def validate_and_score(
    instrument: Instrument,
    answers: Answers,
    *,
    complete: bool = True,
    value_sets: Mapping[str, Collection[str]] | None = None,
) -> tuple[dict[str, Any], Scores]:
    clean = validate(instrument, answers, complete=complete, value_sets=value_sets)
    return clean, score(instrument, clean)

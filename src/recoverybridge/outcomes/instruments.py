"""Instruments: versioned FHIR Questionnaire files, loaded once and validated.

Each file in `questionnaires/` is named `<id>.v<version>.json` and holds one R4 Questionnaire:

- answer weights: the `itemWeight` extension on each `answerOption`;
- item ranges: the `minValue` / `maxValue` extensions on integer items;
- translations: the FHIR `translation` extension on `_text`, `_title` and `_display`
  (one file per version carries every language, so a translation can never drift to
  another version's items);
- scoring: our `scoring-rule` extension on the Questionnaire, one per score, with
  sub-extensions `name`, `method` (sum, mean, max, value, share, count-true), `item`
  (repeated linkIds; for `share`, numerator then denominator), `minValue`, `maxValue`,
  `flag` + `flagAtOrAbove`, `maxMissing` (sum prorates when 1..maxMissing items are missing;
  more missing means no score), `display` and `displayTranslation`;
- the source and its terms in `copyright`.

Every version is kept: a response names the version it was answered in and is always scored
by that version. A malformed file is reported with its name and the reason, by the system
check `outcomes.E001` (start-up, `manage.py check`) and by `ImproperlyConfigured` on use.
"""

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from fhir.resources.R4B.questionnaire import Questionnaire
from pydantic import ValidationError

BUILTIN_DIR = Path(__file__).resolve().parent / "questionnaires"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
SCORING_RULE = "https://recoverybridge.org/fhir/StructureDefinition/scoring-rule"
FELLOWSHIP_VALUE_SET = "https://recoverybridge.org/fhir/ValueSet/fellowships"
LANGUAGES = ("en", "es")
METHODS = frozenset({"sum", "mean", "max", "value", "share", "count-true"})
# Keys the engine adds beside the scores in Response.scores.
RESERVED_SCORE_NAMES = frozenset({"flags", "prorated"})
FILE_NAME = re.compile(r"^(?P<id>[a-z0-9][a-z0-9-]*)\.v(?P<version>[0-9]+)\.json$")
ANSWERED_TYPES = frozenset({"choice", "integer", "decimal", "boolean"})


class InstrumentError(ValueError):
    """A Questionnaire file that cannot be used; the message names the reason."""


@dataclass(frozen=True)
class Option:
    code: str
    weight: float | None
    labels: dict[str, str]

    def label(self, language: str = "en") -> str:
        return self.labels.get(language) or self.labels["en"]


@dataclass(frozen=True)
class Item:
    link_id: str
    type: str
    labels: dict[str, str]
    required: bool = False
    repeats: bool = False
    min_value: float | None = None
    max_value: float | None = None
    options: tuple[Option, ...] = ()
    value_set: str = ""
    children: tuple["Item", ...] = ()
    # The repeating group this item belongs to, if any (its answers are lists of dicts).
    group: str = ""

    def label(self, language: str = "en") -> str:
        return self.labels.get(language) or self.labels.get("en", "")

    def option(self, code: str) -> Option | None:
        for option in self.options:
            if option.code == code:
                return option
        return None


@dataclass(frozen=True)
class ScoreRule:
    name: str
    method: str
    items: tuple[str, ...]
    labels: dict[str, str]
    min_value: float | None = None
    max_value: float | None = None
    flag: str = ""
    flag_at_or_above: float | None = None
    max_missing: int = 0

    def label(self, language: str = "en") -> str:
        return self.labels.get(language) or self.labels.get("en", self.name)


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    url: str
    titles: dict[str, str]
    copyright: str
    items: tuple[Item, ...]
    rules: tuple[ScoreRule, ...]
    resource: dict[str, Any] = field(repr=False, compare=False)
    # Every answerable item by linkId, nested ones included.
    by_link: dict[str, Item] = field(repr=False, compare=False, default_factory=dict)

    def title(self, language: str = "en") -> str:
        return self.titles.get(language) or self.titles["en"]

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)


# ---------------------------------------------------------------- parsing


def _translations(element: Any, english: str) -> dict[str, str]:
    labels = {"en": english}
    for ext in (element or {}).get("extension", []):
        if ext.get("url") != TRANSLATION:
            continue
        parts = {sub.get("url"): sub for sub in ext.get("extension", [])}
        lang = parts.get("lang", {}).get("valueCode")
        content = parts.get("content", {}).get("valueString")
        if lang and content:
            labels[lang] = content
    return labels


def _ext_value(extensions: list[dict[str, Any]], url: str) -> Any:
    for ext in extensions:
        if ext.get("url") == url:
            for key, value in ext.items():
                if key.startswith("value"):
                    return value
    return None


def _item(raw: dict[str, Any], group: str = "") -> Item:
    link_id = raw["linkId"]
    kind = raw["type"]
    extensions = raw.get("extension", [])
    options = []
    for raw_option in raw.get("answerOption", []):
        coding = raw_option.get("valueCoding")
        if coding is None or not coding.get("code"):
            raise InstrumentError(f"item {link_id}: answer options must be codings with a code")
        weight = _ext_value(raw_option.get("extension", []), ITEM_WEIGHT)
        options.append(
            Option(
                code=coding["code"],
                weight=float(weight) if weight is not None else None,
                labels=_translations(coding.get("_display"), coding.get("display", coding["code"])),
            )
        )
    repeats = bool(raw.get("repeats", False))
    child_group = link_id if kind == "group" and repeats else group
    children = tuple(_item(child, child_group) for child in raw.get("item", []))
    low, high = _ext_value(extensions, MIN_VALUE), _ext_value(extensions, MAX_VALUE)
    return Item(
        link_id=link_id,
        type=kind,
        labels=_translations(raw.get("_text"), raw.get("text", "")),
        required=bool(raw.get("required", False)),
        repeats=repeats,
        min_value=float(low) if low is not None else None,
        max_value=float(high) if high is not None else None,
        options=tuple(options),
        value_set=raw.get("answerValueSet", ""),
        children=children,
        group=group,
    )


def _rule(raw: dict[str, Any]) -> ScoreRule:
    values: dict[str, list[Any]] = {}
    labels: dict[str, str] = {}
    for sub in raw.get("extension", []):
        url = sub.get("url", "")
        if url == "displayTranslation":
            # Shaped like the FHIR translation extension (lang + content).
            translated = _translations({"extension": [{**sub, "url": TRANSLATION}]}, "")
            labels.update({lang: text for lang, text in translated.items() if text})
            continue
        value = next((v for k, v in sub.items() if k.startswith("value")), None)
        values.setdefault(url, []).append(value)

    def one(name: str, default: Any = None) -> Any:
        found = values.get(name, [])
        if len(found) > 1:
            raise InstrumentError(f"scoring rule: {name} given more than once")
        return found[0] if found else default

    name = one("name")
    if not name:
        raise InstrumentError("scoring rule without a name")
    if one("display"):
        labels["en"] = one("display")
    low, high, flag_at = one("minValue"), one("maxValue"), one("flagAtOrAbove")
    return ScoreRule(
        name=name,
        method=one("method", ""),
        items=tuple(values.get("item", [])),
        labels=labels,
        min_value=float(low) if low is not None else None,
        max_value=float(high) if high is not None else None,
        flag=one("flag", "") or "",
        flag_at_or_above=float(flag_at) if flag_at is not None else None,
        max_missing=int(one("maxMissing", 0)),
    )


def _walk(items: tuple[Item, ...]) -> list[Item]:
    flat = []
    for item in items:
        flat.append(item)
        flat.extend(_walk(item.children))
    return flat


def _item_range(item: Item) -> tuple[float, float] | None:
    """The smallest and largest value an item contributes to a score, when bounded."""
    if item.type == "choice" and item.options and all(o.weight is not None for o in item.options):
        weights = [o.weight for o in item.options if o.weight is not None]
        return (min(weights), max(weights))
    if item.type in ("integer", "decimal") and item.min_value is not None and item.max_value is not None:
        return (item.min_value, item.max_value)
    if item.type == "boolean":
        return (0.0, 1.0)
    return None


def _check_rule(rule: ScoreRule, by_link: dict[str, Item]) -> None:
    where = f"scoring rule {rule.name!r}"
    if rule.name in RESERVED_SCORE_NAMES:
        raise InstrumentError(f"{where}: the name is reserved")
    if rule.method not in METHODS:
        raise InstrumentError(
            f"{where}: unknown method {rule.method!r} (use one of {', '.join(sorted(METHODS))})"
        )
    if not rule.items:
        raise InstrumentError(f"{where}: names no items")
    for link in rule.items:
        if link not in by_link:
            raise InstrumentError(f"{where}: item {link!r} is not in the questionnaire")
        item = by_link[link]
        if rule.method == "count-true":
            if item.type != "boolean":
                raise InstrumentError(f"{where}: count-true needs boolean items, {link!r} is {item.type}")
        elif item.type not in ("integer", "decimal", "choice"):
            raise InstrumentError(f"{where}: item {link!r} of type {item.type} cannot be scored")
        elif item.type == "choice" and any(o.weight is None for o in item.options):
            raise InstrumentError(f"{where}: every answer option of {link!r} needs an itemWeight")
    if rule.method == "share" and len(rule.items) != 2:
        raise InstrumentError(f"{where}: share needs exactly two items (numerator, denominator)")
    if rule.method == "value" and len(rule.items) != 1:
        raise InstrumentError(f"{where}: value needs exactly one item")
    if rule.max_missing < 0 or (rule.max_missing > 0 and rule.max_missing >= len(rule.items)):
        raise InstrumentError(f"{where}: maxMissing must leave at least one item answered")
    # The declared range must follow from the items, so a changed weight cannot slip by.
    ranges = [_item_range(by_link[link]) for link in rule.items]
    expected: tuple[float, float] | None = None
    in_group = any(by_link[link].group for link in rule.items)
    if rule.method == "share":
        expected = (0.0, 1.0)
    elif rule.method == "count-true":
        expected = (0.0, float(len(rule.items)))
    elif not in_group and all(r is not None for r in ranges):
        bounds = [r for r in ranges if r is not None]
        if rule.method == "sum":
            expected = (sum(r[0] for r in bounds), sum(r[1] for r in bounds))
        else:  # mean, max, value
            expected = (min(r[0] for r in bounds), max(r[1] for r in bounds))
    if expected is not None:
        declared = (rule.min_value, rule.max_value)
        if declared != (None, None) and declared != expected:
            raise InstrumentError(
                f"{where}: declared range {declared[0]:g}-{declared[1] or 0:g} does not match "
                f"its items ({expected[0]:g}-{expected[1]:g})"
            )
    if rule.flag and rule.flag_at_or_above is None:
        raise InstrumentError(f"{where}: flag {rule.flag!r} without flagAtOrAbove")
    if rule.flag_at_or_above is not None:
        low = rule.min_value if rule.min_value is not None else float("-inf")
        high = rule.max_value if rule.max_value is not None else float("inf")
        if not low <= rule.flag_at_or_above <= high:
            raise InstrumentError(f"{where}: flag threshold {rule.flag_at_or_above:g} is outside its range")


def parse(data: Any, *, file_id: str | None = None, file_version: str | None = None) -> Instrument:
    """An Instrument from a Questionnaire's JSON, or InstrumentError saying what is wrong."""
    if not isinstance(data, dict) or data.get("resourceType") != "Questionnaire":
        raise InstrumentError("not a FHIR Questionnaire (resourceType must be Questionnaire)")
    try:
        Questionnaire.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        raise InstrumentError(f"invalid FHIR Questionnaire at {place}: {first['msg']}") from None
    url, version = data.get("url", ""), data.get("version", "")
    if not url or not version:
        raise InstrumentError("url and version are required")
    instrument_id = url.rstrip("/").rsplit("/", 1)[-1]
    if file_id is not None and (instrument_id, version) != (file_id, file_version):
        raise InstrumentError(
            f"file name says {file_id} version {file_version}, the Questionnaire says "
            f"{instrument_id} version {version}"
        )
    if not data.get("copyright"):
        raise InstrumentError("copyright must give the source and its terms")
    items = tuple(_item(raw) for raw in data.get("item", []))
    flat = _walk(items)
    by_link: dict[str, Item] = {}
    for item in flat:
        if item.link_id in by_link:
            raise InstrumentError(f"linkId {item.link_id!r} is used twice")
        by_link[item.link_id] = item
        if item.type == "display":
            continue
        missing = [lang for lang in LANGUAGES if not item.labels.get(lang)]
        if missing:
            raise InstrumentError(f"item {item.link_id}: no text in {', '.join(missing)}")
        if item.type == "choice" and not item.options and not item.value_set:
            raise InstrumentError(f"item {item.link_id}: a choice needs answerOption or answerValueSet")
        if item.type == "group" and not item.children:
            raise InstrumentError(f"item {item.link_id}: an empty group")
        if item.type not in ANSWERED_TYPES | {"group"}:
            raise InstrumentError(f"item {item.link_id}: type {item.type} is not supported")
    rules = tuple(_rule(ext) for ext in data.get("extension", []) if ext.get("url") == SCORING_RULE)
    if not rules:
        raise InstrumentError(f"no scoring rule (extension {SCORING_RULE})")
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise InstrumentError("two scoring rules share a name")
    for rule in rules:
        _check_rule(rule, by_link)
    titles = _translations(data.get("_title"), data.get("title", instrument_id))
    return Instrument(
        id=instrument_id,
        version=version,
        url=url,
        titles=titles,
        copyright=data["copyright"],
        items=items,
        rules=rules,
        resource=data,
        by_link={link: item for link, item in by_link.items() if item.type in ANSWERED_TYPES},
    )


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class Problem:
    file: str
    reason: str


@dataclass
class Registry:
    instruments: dict[tuple[str, str], Instrument]
    problems: list[Problem]

    def get(self, instrument_id: str, version: str | None = None) -> Instrument:
        """An instrument version, or the latest one; KeyError when there is none."""
        if version is not None:
            return self.instruments[(instrument_id, str(version))]
        versions = [i for (iid, _), i in self.instruments.items() if iid == instrument_id]
        if not versions:
            raise KeyError(instrument_id)
        return max(versions, key=lambda i: int(i.version))

    def latest(self) -> list[Instrument]:
        """The newest version of every instrument, by id."""
        return [self.get(iid) for iid in sorted({iid for iid, _ in self.instruments})]


def load_directory(directory: Path) -> Registry:
    """Load every Questionnaire file in `directory`, collecting problems rather than stopping
    at the first, so one check run reports them all."""
    instruments: dict[tuple[str, str], Instrument] = {}
    problems: list[Problem] = []
    for path in sorted(Path(directory).glob("*.json")):
        match = FILE_NAME.match(path.name)
        try:
            if match is None:
                raise InstrumentError("file name must be <id>.v<version>.json, e.g. barc-10.v1.json")
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise InstrumentError(f"not valid JSON: {error}") from None
            instrument = parse(data, file_id=match["id"], file_version=match["version"])
        except InstrumentError as error:
            problems.append(Problem(path.name, str(error)))
            continue
        instruments[instrument.key] = instrument
    return Registry(instruments, problems)


def questionnaire_dir() -> Path:
    return Path(getattr(settings, "OUTCOMES_QUESTIONNAIRE_DIR", None) or BUILTIN_DIR)


@cache
def _load(directory: Path) -> Registry:
    return load_directory(directory)


def problems() -> list[Problem]:
    return _load(questionnaire_dir()).problems


def registry() -> Registry:
    """The loaded instruments; ImproperlyConfigured naming each bad file and why."""
    loaded = _load(questionnaire_dir())
    if loaded.problems:
        raise ImproperlyConfigured(
            "Questionnaire files rejected: " + "; ".join(f"{p.file}: {p.reason}" for p in loaded.problems)
        )
    return loaded


def get(instrument_id: str, version: str | None = None) -> Instrument:
    return registry().get(instrument_id, version)

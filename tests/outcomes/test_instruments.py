"""Questionnaire files: every shipped file validates; a malformed one is rejected at start-up
with the file name and the reason; versions stay apart."""

import json
import re
import shutil
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from fhir.resources.R4B.questionnaire import Questionnaire

from recoverybridge.outcomes import instruments
from recoverybridge.outcomes.scoring import validate_and_score

SHIPPED = sorted(instruments.BUILTIN_DIR.glob("*.json"))


def barc_file() -> dict:
    return json.loads((instruments.BUILTIN_DIR / "barc-10.v1.json").read_text())


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_validates(path: Path):
    data = json.loads(path.read_text())
    Questionnaire.model_validate(data)
    instrument = instruments.parse(data)
    assert instrument.rules
    assert instrument.copyright
    assert instrument.title("es") != instrument.title("en")
    for item in instrument.by_link.values():
        assert item.label("es") != item.label("en"), item.link_id


def test_shipped_instruments_are_all_there():
    assert {i.id for i in instruments.registry().latest()} == {
        "barc-10",
        "substance-use-28",
        "social-network",
        "mutual-help",
    }
    assert "permission not required" in instruments.get("barc-10").copyright


def write(directory: Path, name: str, data: object) -> None:
    (directory / name).write_text(data if isinstance(data, str) else json.dumps(data))


def problems_in(directory: Path) -> dict[str, str]:
    return {p.file: p.reason for p in instruments.load_directory(directory).problems}


def test_malformed_json_named_with_reason(tmp_path):
    write(tmp_path, "broken.v1.json", '{"resourceType": "Questionnaire",')
    assert problems_in(tmp_path)["broken.v1.json"].startswith("not valid JSON")


def test_invalid_fhir_named_with_reason(tmp_path):
    data = barc_file()
    data["date"] = "last Tuesday"  # not a FHIR dateTime
    write(tmp_path, "barc-10.v1.json", data)
    reason = problems_in(tmp_path)["barc-10.v1.json"]
    assert reason.startswith("invalid FHIR Questionnaire at date")


def test_missing_scoring_rule(tmp_path):
    data = barc_file()
    data["extension"] = []
    write(tmp_path, "barc-10.v1.json", data)
    assert "no scoring rule" in problems_in(tmp_path)["barc-10.v1.json"]


def test_scoring_rule_inconsistent_with_items(tmp_path):
    data = barc_file()
    # A changed weight: option 6 of item 1 now scores 7, so the declared 10-60 no longer holds.
    data["item"][1]["answerOption"][5]["extension"][0]["valueDecimal"] = 7
    write(tmp_path, "barc-10.v1.json", data)
    assert "declared range 10-60 does not match its items (10-61)" in problems_in(tmp_path)["barc-10.v1.json"]


def test_rule_naming_an_unknown_item(tmp_path):
    data = barc_file()
    data["extension"][0]["extension"][2]["valueString"] = "barc-11"
    write(tmp_path, "barc-10.v1.json", data)
    assert "item 'barc-11' is not in the questionnaire" in problems_in(tmp_path)["barc-10.v1.json"]


def test_missing_translation(tmp_path):
    data = barc_file()
    del data["item"][1]["_text"]
    write(tmp_path, "barc-10.v1.json", data)
    assert problems_in(tmp_path)["barc-10.v1.json"] == "item barc-1: no text in es"


def test_file_name_must_match_id_and_version(tmp_path):
    write(tmp_path, "barc-10.v2.json", barc_file())
    write(tmp_path, "notes.json", barc_file())
    found = problems_in(tmp_path)
    assert (
        "file name says barc-10 version 2, the Questionnaire says barc-10 version 1"
        in found["barc-10.v2.json"]
    )
    assert "file name must be" in found["notes.json"]


def test_start_up_check_rejects_a_bad_file_with_name_and_reason(tmp_path, settings):
    shutil.copy(instruments.BUILTIN_DIR / "barc-10.v1.json", tmp_path)
    data = barc_file()
    data["extension"] = []
    write(
        tmp_path,
        "bad-form.v1.json",
        {**data, "url": "https://recoverybridge.org/fhir/Questionnaire/bad-form"},
    )
    settings.OUTCOMES_QUESTIONNAIRE_DIR = str(tmp_path)
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    assert "bad-form.v1.json: no scoring rule" in str(raised.value)
    assert "outcomes.E001" in str(raised.value)
    with pytest.raises(ImproperlyConfigured, match=re.escape("bad-form.v1.json: no scoring rule")):
        instruments.get("barc-10")


def test_the_real_directory_passes_the_check():
    call_command("check")


def test_a_new_version_does_not_change_old_scores(tmp_path, settings):
    shutil.copy(instruments.BUILTIN_DIR / "barc-10.v1.json", tmp_path)
    v2 = barc_file()
    v2["version"] = "2"
    v2["id"] = "barc-10-v2"
    # Version 2 scores 0-5 instead of 1-6 (range 0-50, flag moved to 37).
    for item in v2["item"][1:]:
        for option in item["answerOption"]:
            option["extension"][0]["valueDecimal"] -= 1
    rule = v2["extension"][0]["extension"]
    for sub in rule:
        if sub["url"] == "minValue":
            sub["valueDecimal"] = 0
        if sub["url"] == "maxValue":
            sub["valueDecimal"] = 50
        if sub["url"] == "flagAtOrAbove":
            sub["valueDecimal"] = 37
    write(tmp_path, "barc-10.v2.json", v2)
    settings.OUTCOMES_QUESTIONNAIRE_DIR = str(tmp_path)
    answers = {f"barc-{n}": "5" for n in range(1, 11)}
    assert instruments.get("barc-10").version == "2"
    assert validate_and_score(instruments.get("barc-10", "1"), answers)[1]["total"] == 50
    assert validate_and_score(instruments.get("barc-10", "2"), answers)[1]["total"] == 40

"""The schemas and feeds copied into tests/ are still the shared folder's, byte for byte."""

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SHARED = TESTS.parent.parent / "shared"
COPIES = [
    (TESTS / "standards", SHARED / "standards"),
    (TESTS / "fixtures" / "feeds", SHARED / "data" / "feeds"),
]


def copied_files() -> list[tuple[Path, Path]]:
    return [
        (copy, source / copy.relative_to(copies))
        for copies, source in COPIES
        for copy in sorted(copies.rglob("*.json"))
    ]


def test_there_are_copies_to_check():
    names = {copy.name for copy, _source in copied_files()}
    assert {"service.json", "openapi.json", "meeting.schema.json", "sussexaa.json"} <= names


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared folder at {SHARED} to compare with")
@pytest.mark.parametrize(("copy", "source"), copied_files(), ids=lambda path: path.name)
def test_a_copy_matches_the_shared_folder(copy: Path, source: Path):
    assert source.is_file(), f"{source} is gone from the shared folder"
    assert copy.read_bytes() == source.read_bytes(), f"{copy} differs from {source}"

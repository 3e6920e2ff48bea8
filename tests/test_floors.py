"""The house's floors hold: no import from a lower app into a higher one, no circle between apps,
no private name (`_name`) imported or used across apps, and no template of a lower app that
includes or extends a higher app's. The floors are written once, in pyproject.toml's
[tool.importlinter] contract; import-linter checks the imports, this file the rest."""

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "recoverybridge"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def floors() -> list[set[str]]:
    """The apps (first part below recoverybridge) of each floor, top first."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["id"] == "floors"]
    return [
        {name.strip().removeprefix("recoverybridge.") for name in layer.split("|")}
        for layer in contract["layers"]
    ]


def floor_of(app: str) -> int:
    """Higher numbers are higher floors; the project's own templates and top modules count as ground."""
    layers = floors()
    for index, layer in enumerate(layers):
        if app in layer:
            return len(layers) - index
    return 0


def app_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def lint_imports(source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 -- our own contract over our own code
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_app_is_on_a_floor():
    apps = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    placed = set().union(*floors())
    assert apps | modules <= placed, f"not on any floor: {sorted((apps | modules) - placed)}"


def test_no_import_runs_back_up():
    result = lint_imports(SRC)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_import_that_runs_back_up_is_caught(tmp_path):
    """The contract can fail: a copy of the code with the ground floor importing care breaks it."""
    copy = tmp_path / "src"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("static", "locale", "templates", "*.json"))
    models = copy / "recoverybridge" / "organisations" / "models.py"
    models.write_text(models.read_text() + "\nfrom recoverybridge.care import states  # noqa\n")

    result = lint_imports(copy)

    assert result.returncode != 0
    assert "recoverybridge.organisations.models -> recoverybridge.care.states" in result.stdout


def private_names_across_apps(package: Path) -> list[str]:
    """`from recoverybridge.<other>... import _name`, and `<module of other app>._name` uses."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        app = path.relative_to(package).parts[0].removesuffix(".py")
        tree = ast.parse(path.read_text(), str(path))
        other_modules: set[str] = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("recoverybridge."):
                continue
            target = node.module.split(".")[1]
            if target == app:
                continue
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(
                        f"{path.relative_to(package)}:{node.lineno} imports {node.module}.{alias.name}"
                    )
                else:
                    other_modules.add(alias.asname or alias.name)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in other_modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append(f"{path.relative_to(package)}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_no_private_name_crosses_apps():
    assert private_names_across_apps(PACKAGE) == []


def test_a_private_name_across_apps_is_caught(tmp_path):
    planted = tmp_path / "recoverybridge"
    (planted / "care").mkdir(parents=True)
    (planted / "outcomes").mkdir()
    (planted / "outcomes" / "actions.py").write_text(
        "from recoverybridge.care.actions import _deny\nfrom recoverybridge.care import views\nviews._person\n"
    )
    assert private_names_across_apps(planted) == [
        "outcomes/actions.py:1 imports recoverybridge.care.actions._deny",
        "outcomes/actions.py:3 uses views._person",
    ]


TEMPLATE_TAG = re.compile(r"{%\s*(?:include|extends)\s+\"([^\"]+)\"")


def test_no_template_reaches_up():
    """A template under <app>/templates/ uses only templates of its own floor or below (the
    project's own templates, base.html, forms/ and staff/, are the ground's)."""
    apps = {p.name for p in PACKAGE.iterdir() if (p / "templates").is_dir()}
    wrong = []
    for path in sorted(PACKAGE.glob("*/templates/**/*.html")):
        app = app_of(path)
        for name in TEMPLATE_TAG.findall(path.read_text()):
            used = name.split("/")[0]
            if used in apps and used != app and floor_of(used) >= floor_of(app):
                wrong.append(f"{path.relative_to(PACKAGE)} uses {name}")
    for path in sorted((PACKAGE / "templates").rglob("*.html")):
        for name in TEMPLATE_TAG.findall(path.read_text()):
            if name.split("/")[0] in apps:
                wrong.append(f"{path.relative_to(PACKAGE)} (ground) uses {name}")
    assert wrong == []

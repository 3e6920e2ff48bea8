"""The finder as an installable web app: the manifest, the service worker's script and what it may
keep, the saved-meetings and offline pages; and the one content security policy letting in the
images of a tile server when MAP_TILE_URL names one."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from PIL import Image

pytestmark = pytest.mark.django_db

REQUIRED = {"name", "short_name", "start_url", "scope", "display", "icons", "theme_color", "background_color"}


def static_file(url: str) -> Path:
    found = finders.find(url.removeprefix("/static/"))
    assert found, url
    return Path(found)


def test_the_manifest_names_the_app_its_start_and_icons_that_exist(client: Client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest.keys() >= REQUIRED
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {}
    for icon in manifest["icons"]:
        path = static_file(icon["src"])
        if icon["type"] == "image/png":
            with Image.open(path) as image:
                assert image.format == "PNG"
                assert icon["sizes"] == f"{image.width}x{image.height}"
                sizes.setdefault(icon["purpose"], set()).add(image.width)
        else:
            assert path.read_text().lstrip().startswith("<svg")
    assert {192, 512} <= sizes["any"] and 512 in sizes["maskable"]  # what browsers want to install
    # Every page links it, with the theme colour.
    page = client.get("/which-group/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert f'<meta name="theme-color" content="{manifest["theme_color"]}">' in page


def test_the_manifest_speaks_the_visitors_language(client: Client):
    spanish = json.loads(client.get("/manifest.webmanifest", headers={"accept-language": "es"}).content)
    assert (
        spanish["lang"] == "es" and spanish["name"] == "RecoveryBridge: encuentre una reunión de recuperación"
    )


def test_the_service_worker_is_served_from_the_root_and_keeps_only_public_finder_pages(client: Client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    script = response.content.decode()
    # The files of the shell are named as the site serves them, and each one exists.
    shell = json.loads(re.search(r"var SHELL = (\[.*?\]);", script).group(1))
    assert "/static/js/keep.js" in shell
    for url in shell:
        assert static_file(url).exists()
    # Which pages it answers is a short list of the finder's own paths: the search, a meeting,
    # the offline and saved pages. No other path (staff, /q/ links, the API) is ever answered.
    kinds = script[script.index("function kind(url)") : script.index("function keepable")]
    assert re.findall(r'return "(\w+)"', kinds) == ["meeting", "shell"]
    assert 'path === "/"' in kinds and "/^\\/meetings\\/\\d+\\/$/" in kinds
    for private in ("/staff/", "/q/", "/api/", "/accounts/", "/editor/"):
        assert private not in kinds
    # Its version follows what it keeps: the same files, the same version.
    assert re.search(r'var VERSION = "([0-9a-f]{12})"', script)
    assert client.get("/sw.js").content.decode() == script


def test_saved_and_offline_pages(client: Client):
    saved = client.get("/saved/")
    assert saved.status_code == 200
    html = saved.content.decode()
    assert 'id="saved-meetings"' in html and "nothing about them is sent to us" in html
    offline = client.get("/offline/").content.decode()
    assert "You are offline" in offline and 'href="/saved/"' in offline
    assert client.post("/saved/").status_code == 405


@pytest.mark.parametrize(
    "tile_url, allowed",
    [
        ("", ["'self'", "data:"]),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", ["'self'", "data:", "https://*.tile.example.org"]),
        (
            "https://tiles.example.org:8443/base/{z}/{x}/{y}.png?key=abc",
            ["'self'", "data:", "https://tiles.example.org:8443"],
        ),
        ("javascript:alert(1)", ["'self'", "data:"]),
    ],
)
def test_the_tile_servers_images_are_the_only_other_host_allowed(tile_url, allowed):
    """Settings read MAP_TILE_URL from the environment at start-up, so a fresh process is asked."""
    program = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client(HTTP_HOST='localhost').get('/offline/')['Content-Security-Policy'])"
    )
    root = Path(__file__).resolve().parents[2]
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "recoverybridge.settings",
        "PYTHONPATH": str(root / "src"),
        "SECRET_KEY": "test-only",
        "DEBUG": "1",
        "MAP_TILE_URL": tile_url,
        "DATABASE_URL": "sqlite:///:memory:",
    }
    policy = subprocess.run(  # noqa: S603 -- our own interpreter with a fixed program
        [sys.executable, "-c", program], env=environment, capture_output=True, text=True, check=True, cwd=root
    ).stdout
    directives = {name: values for name, *values in (part.split() for part in policy.strip().split(";"))}
    assert directives["img-src"] == allowed
    assert directives["script-src"] == directives["default-src"] == ["'self'"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/sw.js", "/manifest.webmanifest", "/", "/saved/", "/offline/", "/which-group/"]
)
def test_the_web_app_answers_with_productions_hashed_static_files(
    client: Client, settings, collected_static, path
):
    """Tests serve static files as they are; production names them by their hash from
    collectstatic's manifest, where a name with no file (such as "") is an error, not a URL."""
    settings.STATIC_ROOT = collected_static
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    response = client.get(path)
    assert response.status_code == 200
    if path == "/sw.js":
        body = response.content.decode()
        assert re.search(r"/static/css/site\.[0-9a-f]{12}\.css", body)

"""The import_feed command: where feeds come from, and clear errors when they cannot be read."""

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recoverybridge.directory.feeds.loading import parser_for
from recoverybridge.directory.feeds.records import FeedError
from recoverybridge.directory.models import FeedSource, ImportRun, Meeting

pytestmark = pytest.mark.django_db

FEED = [{"slug": "noon", "name": "Noon", "day": 3, "time": "12:00", "timezone": "Europe/Dublin"}]


def import_feed(location, *options):
    out, err = StringIO(), StringIO()
    call_command(
        "import_feed",
        location,
        "--format=meeting-guide",
        "--source=dublin",
        "--fellowship=aa",
        *options,
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


@pytest.fixture
def feed_server(tmp_path):
    """A real HTTP server on localhost serving tmp_path."""
    (tmp_path / "feed.json").write_text(json.dumps(FEED))
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_feed_is_fetched_over_http(feed_server):
    output, _ = import_feed(f"{feed_server}/feed.json")

    assert "1 records read, 1 created" in output
    assert Meeting.objects.get().timezone == "Europe/Dublin"
    assert FeedSource.objects.get().location == f"{feed_server}/feed.json"


def test_a_missing_page_names_the_http_status(feed_server):
    with pytest.raises(CommandError, match="answered HTTP 404"):
        import_feed(f"{feed_server}/nothing.json")

    assert ImportRun.objects.get().status == "failed"


def test_a_feed_larger_than_the_cap_is_refused(feed_server, settings):
    settings.FEED_MAX_BYTES = 20

    with pytest.raises(CommandError, match=r"sent more than FEED_MAX_BYTES \(20 bytes\)"):
        import_feed(f"{feed_server}/feed.json")
    assert Meeting.objects.count() == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed.json"])
def test_only_http_and_https_urls_are_fetched(url):
    with pytest.raises(CommandError, match="only http and https feed URLs are allowed"):
        import_feed(url)


def test_a_missing_file_is_named(tmp_path):
    missing = tmp_path / "nope.json"

    with pytest.raises(CommandError, match=f"no such file: {missing}"):
        import_feed(str(missing))


def test_an_empty_file_is_not_a_feed(tmp_path):
    (tmp_path / "empty.json").write_text("  \n")

    with pytest.raises(CommandError, match=r"empty\.json is empty"):
        import_feed(str(tmp_path / "empty.json"))


def test_no_progress_bar_when_not_on_a_terminal(tmp_path):
    (tmp_path / "feed.json").write_text(json.dumps(FEED))

    _, errors = import_feed(str(tmp_path / "feed.json"))

    assert errors == ""


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--fellowship=nobody", "--fellowship nobody: unknown"),
        ("--timezone=Mars/Olympus", "--timezone Mars/Olympus: not an IANA time zone"),
        ("--language=xx", "--language xx: no language attribute"),
    ],
)
def test_bad_options_are_named(tmp_path, option, message):
    (tmp_path / "feed.json").write_text(json.dumps(FEED))

    with pytest.raises(CommandError, match=message):
        import_feed(str(tmp_path / "feed.json"), option)
    assert Meeting.objects.count() == 0


def test_a_source_name_must_be_a_slug(tmp_path):
    with pytest.raises(CommandError, match="--source 'Dublin AA'"):
        call_command("import_feed", "x.json", "--format=meeting-guide", "--source=Dublin AA")


def test_a_source_keeps_its_fellowship_and_zone_between_runs(tmp_path):
    (tmp_path / "feed.json").write_text(json.dumps([{**FEED[0], "timezone": ""}]))
    import_feed(str(tmp_path / "feed.json"), "--timezone=Europe/Dublin")

    call_command(
        "import_feed",
        str(tmp_path / "feed.json"),
        "--format=meeting-guide",
        "--source=dublin",
        stdout=StringIO(),
    )

    source = FeedSource.objects.get()
    assert (source.fellowship.slug, source.default_timezone) == ("aa", "Europe/Dublin")
    assert ImportRun.objects.filter(status="succeeded").count() == 2


def test_formats_file_is_only_for_bmlt(tmp_path):
    (tmp_path / "feed.json").write_text(json.dumps(FEED))

    with pytest.raises(CommandError, match="--formats is only for BMLT feeds"):
        import_feed(str(tmp_path / "feed.json"), f"--formats={tmp_path / 'feed.json'}")


def test_an_unknown_format_has_no_parser():
    with pytest.raises(FeedError, match="unknown feed format"):
        parser_for("csv")

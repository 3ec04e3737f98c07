"""The API docs page works without internet: everything it loads comes from this site."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

# A URL that names a host, with or without a scheme ("//cdn.example/x.js").
OTHER_HOST = re.compile(r"(?:https?:)?//[\w-]+\.[\w.-]+")
# Swagger UI's start script: not a static file but the docs view's own answer, as a script.
START_SCRIPT = "/api/docs/?script="
CSS_REMOTE = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])(?:https?:)?//""")


class References(HTMLParser):
    """Every src and href on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


@pytest.fixture
def page(db: None) -> str:
    answer = Client().get("/api/docs/")
    assert answer.status_code == 200
    return answer.content.decode()


def references(page: str) -> list[str]:
    parser = References()
    parser.feed(page)
    return parser.urls


def static_file(url: str) -> Path | None:
    path = urlsplit(url).path
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    if not path.startswith(prefix):
        return None
    found = finders.find(path.removeprefix(prefix))
    return Path(found) if isinstance(found, str) else None


def test_it_loads_swagger_ui_from_this_site(page):
    urls = references(page)
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls)
    elsewhere = [url for url in urls if urlsplit(url).scheme or urlsplit(url).netloc]
    assert elsewhere == []


def test_it_names_no_other_host_anywhere_on_the_page(page):
    assert OTHER_HOST.findall(page) == []


def test_it_names_no_other_host_in_the_start_script(page):
    # Swagger UI reads its schema's address and its settings from it.
    answer = Client().get(START_SCRIPT)
    assert answer.status_code == 200
    assert OTHER_HOST.findall(answer.content.decode()) == []


def test_it_serves_every_file_the_page_references(page):
    urls = references(page)
    assert START_SCRIPT in urls
    missing = [url for url in urls if url != START_SCRIPT and static_file(url) is None]
    assert missing == []


def test_it_loads_nothing_from_another_host_in_the_stylesheets(page):
    sheets = [static_file(url) for url in references(page) if url.endswith(".css")]
    local = [sheet for sheet in sheets if sheet is not None]
    assert local, "Swagger UI's stylesheet is not served from this site"
    remote = [sheet.name for sheet in local if CSS_REMOTE.search(sheet.read_text())]
    assert remote == []

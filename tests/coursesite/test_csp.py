"""The Content Security Policy: every answer of the site carries it, and nothing the site serves
needs an exception from it (no inline script or style, nothing from another host).

The browser sweep (tests/test_site_pages_browser.py) checks the pages themselves for violations.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import REPO, Personas

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "frame-ancestors": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}
APPS = ["coursesite", "grading", "submissions", "presentations", "quizzes"]
# An inline script (one without src), a <style> element, or a style attribute.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=", re.IGNORECASE)


def policy_of(answer: object) -> dict[str, list[str]]:
    header = answer["Content-Security-Policy"]  # type: ignore[index]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


class Scripts(HTMLParser):
    """The page's script elements: their src, or None for an inline one."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str | None] = []
        self.styles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.sources.append(dict(attrs).get("src"))
        self.styles += tag == "style" or any(name == "style" for name, _ in attrs)


def scripts_of(page: str) -> Scripts:
    parser = Scripts()
    parser.feed(page)
    return parser


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/admin/login/", "/api/docs/", "/api/v1/courses/", "/healthz"]
)
def test_it_sends_the_policy_with_every_answer(db: None, url: str) -> None:
    assert policy_of(Client().get(url)) == POLICY


def test_it_sends_the_policy_with_a_course_page(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.carol)
    answer = client.get(f"/courses/{personas.course.slug}/")
    assert answer.status_code == 200
    assert policy_of(answer) == POLICY


def test_it_serves_the_api_docs_without_an_inline_script_or_style(db: None) -> None:
    page = scripts_of(Client().get("/api/docs/").content.decode())
    assert None not in page.sources
    assert page.styles == 0
    assert "/api/docs/?script=" in page.sources


def test_it_serves_swagger_uis_start_script_as_a_file(db: None) -> None:
    answer = Client().get("/api/docs/?script=")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/javascript")
    script = answer.content.decode()
    assert "SwaggerUIBundle(" in script and "/api/schema/" in script


def templates() -> list[Path]:
    return sorted(path for app in APPS for path in (REPO / app / "templates").rglob("*.html"))


def test_it_finds_the_templates() -> None:
    assert len(templates()) > 20


@pytest.mark.parametrize("template", templates(), ids=lambda path: str(path.relative_to(REPO)))
def test_it_has_no_inline_script_or_style_in_a_template(template: Path) -> None:
    assert INLINE.findall(template.read_text()) == []

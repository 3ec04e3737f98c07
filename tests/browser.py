"""A headless Chromium for browser tests: ``pytest_plugins = ["tests.browser"]``, then ``browser``.

It uses the machine's Chromium and chromedriver (Debian: ``chromium``, ``chromium-driver``) and
never downloads either. Without them the tests skip; with REQUIRE_SERVICES=1 they fail.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django.live_server_helper import LiveServer
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.conftest import REQUIRE_SERVICES

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
WINDOW = (1280, 1000)

# Tests run as root in containers (no sandbox possible) with a tiny /dev/shm, and must not
# reach the network: no updates, sync or background fetches, so that a run is the same offline.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
]


def need_browser() -> None:
    """Skip the test without Chromium or chromedriver; fail instead under REQUIRE_SERVICES=1."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if not missing:
        return
    message = f"no browser for the browser tests: {', '.join(missing)} missing"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; REQUIRE_SERVICES=1 says it must be there")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium(live_server: LiveServer) -> Iterator[webdriver.Chrome]:
    """One Chromium for the whole run: starting it costs more than most of the tests.

    It asks for the live server so that it quits first: its open keep-alive connections,
    closed after the server, would end in server threads that no longer own the database.
    """
    need_browser()
    with (
        pytest.MonkeyPatch.context() as patch,
        tempfile.TemporaryDirectory(prefix="coursesite-chromium-") as profile,
    ):
        # With both paths given Selenium Manager is not consulted; offline mode makes sure of it.
        patch.setenv("SE_OFFLINE", "true")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(
            options=options, service=Service(executable_path=str(CHROMEDRIVER))
        )
        driver.implicitly_wait(0)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def browser(chromium: webdriver.Chrome) -> Iterator[webdriver.Chrome]:
    """The shared Chromium, logged out: each test starts without the last one's session."""
    yield chromium
    chromium.delete_all_cookies()

"""Headless Chromium for the player tests: a selenium driver, or a skip that says why.

The browser is Debian's ``chromium`` with ``chromium-driver`` (``make test``
installs them as root, or prints the command). Tests skip only when the
browser or its driver is truly absent.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = next((p for p in ("chromium", "chromium-browser") if shutil.which(p)), None)
DRIVER = shutil.which("chromedriver")
INSTALL = "sudo apt-get install chromium chromium-driver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)


def browser_missing() -> str | None:
    """Why the browser tests cannot run, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if CHROMIUM is None or DRIVER is None:
        return f"headless Chromium or chromedriver not found on PATH: {INSTALL}"
    return None


@contextmanager
def chromium() -> Iterator:
    """A selenium Chrome driver on the system Chromium with a fresh profile; logs collected."""
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="agl-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which(CHROMIUM)
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={Path(profile)}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(DRIVER))
        try:
            yield driver
        finally:
            driver.quit()


def page_requests(driver, path: Path) -> list[str]:
    """The URLs the page at ``path`` requested since the performance log was last read
    (Chromium's own pages log there too: only our page's count; data: URLs are in-page)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if (
            message["method"] == "Network.requestWillBeSent"
            and params.get("documentURL") == path.as_uri()
            and not params["request"]["url"].startswith("data:")
        ):
            urls.append(params["request"]["url"])
    return urls

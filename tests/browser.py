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


# Every non-empty text of a network view's drawing whose box leaves the drawing (it would be
# cut off), or that is drawn smaller than 8 px; and whether the drawing leaves the window.
OUTSIDE_TEXT = """
var out = [];
document.querySelectorAll('svg.agl-net-svg').forEach(function (svg) {
  var box = svg.getBoundingClientRect();
  if (box.right > window.innerWidth + 0.5) out.push('the drawing ends at ' + box.right);
  svg.querySelectorAll('text').forEach(function (t) {
    if (!t.textContent) return;
    var r = t.getBoundingClientRect();
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 ||
        r.bottom > box.bottom + 0.5 || r.height < 8)
      out.push(JSON.stringify(t.textContent) + ' at ' + [r.left, r.right, r.top, r.bottom,
        r.height].map(Math.round) + ' in ' + [box.left, box.right].map(Math.round));
  });
});
return out;
"""

# The widest value a neuron writes (network.js: "δ " and 3 significant digits) in every
# neuron's place: the layout must keep room for it whatever the numbers.
WIDEST_VALUES = """
document.querySelectorAll('svg.agl-net-svg .agl-value').forEach(function (t) {
  t.textContent = '\\u03B4 -8.88e-05';
});
"""

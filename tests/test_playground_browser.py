"""The playground as a person uses it: headless Chromium on the real server (a subprocess on a
free port, stopped with SIGINT, which must exit 0)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the playground extra: pip install -e '.[playground]'")

from browser import OUTSIDE_TEXT, WIDEST_VALUES, chromium  # noqa: E402
from playground_server import serve  # noqa: E402

import nn  # noqa: E402

ROOT = '[data-autograd-lite="network"]'


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("playground-out")) as server, chromium() as driver:
        driver.get(server.url)
        page = Page(driver, server)
        page.until(lambda: page.root.get_attribute("data-ready") == "1", "the view mounted")
        yield page
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []


class Page:
    def __init__(self, driver, server) -> None:
        self.driver, self.server = driver, server

    @property
    def root(self):
        return self.driver.find_element("css selector", ROOT)

    def attr(self, name: str) -> str:
        return self.root.get_attribute(name)

    def until(self, done, what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                readout = self.driver.find_element("css selector", "[data-role=readout]").text
                raise AssertionError(
                    f"{what}: not within {timeout} s; error: {self.error()!r}; status: {readout}"
                )
            time.sleep(0.05)

    def set(self, name: str, value: str) -> None:
        """Change a control as a person does: choose an option, or type and leave the field."""
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import Select

        field = self.driver.find_element("css selector", f'[name="{name}"]')
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:  # focused, the field is the person's: frames do not overwrite it
            field.click()
            field.send_keys(Keys.CONTROL, "a")
            field.send_keys(value, Keys.TAB)

    def click(self, action: str) -> None:
        self.driver.find_element("css selector", f'[data-action="{action}"]').click()

    def error(self) -> str:
        box = self.driver.find_element("css selector", '[data-role="error"]')
        return box.text if box.is_displayed() else ""

    def epoch(self) -> int:
        return int(self.attr("data-epoch") or 0)


def test_without_the_token_the_page_and_socket_get_403(page):
    probe = page.driver.execute_async_script(
        """
        var done = arguments[arguments.length - 1];
        var socket = new WebSocket(arguments[0]), opened = false;
        socket.onopen = function () { opened = true; };
        socket.onclose = function (event) { done({opened: opened, code: event.code}); };
        """,
        page.server.ws_url(),
    )
    assert probe == {"opened": False, "code": 1006}  # the handshake was refused
    page.driver.get(page.server.base + "/")
    assert page.driver.find_element("tag name", "body").text.startswith("403 Forbidden")
    refused = [e["message"] for e in page.driver.get_log("browser") if e["level"] == "SEVERE"]
    assert len(refused) >= 2 and all("403" in text for text in refused), refused
    page.driver.get(page.server.url)
    page.until(lambda: page.root.get_attribute("data-ready") == "1", "the view mounted again")


def test_train_pause_fix_a_bad_rate_reset_and_save(page):
    for name, value in [
        ("dataset", "spirals"),
        ("hidden", "16,16"),
        ("optimizer", "adam"),
        ("lr", "0.03"),
    ]:
        page.set(name, value)
    page.until(lambda: page.error() == "" and "MLP 2-16-16-3" in readout(page), "settings")
    page.click("step")
    page.until(lambda: page.attr("data-epoch") == "1", "one epoch")
    first = float(page.attr("data-loss"))
    page.click("play")
    page.until(lambda: page.attr("data-running") == "true", "running")
    page.until(lambda: page.epoch() > 1 and float(page.attr("data-loss")) < first, "learning")
    page.until(lambda: len(curve(page, ".agl-test")) > 1, "the held-out curve")
    assert len(curve(page, ":not(.agl-test)")) > 1  # the training loss curve grows too
    page.click("pause")
    page.until(lambda: page.attr("data-running") == "false", "paused")
    time.sleep(0.3)
    held = page.epoch()
    time.sleep(0.6)
    assert page.epoch() == held  # pause holds the epoch

    page.set("lr", "-1")
    page.until(lambda: "lr: expected a positive number, got '-1'" in page.error(), "lr error")
    lr = page.driver.find_element("css selector", '[name="lr"]')
    assert lr.get_attribute("aria-invalid") == "true"
    page.set("lr", "0.01")
    page.until(lambda: page.error() == "", "the error clears")
    assert lr.get_attribute("aria-invalid") is None
    page.click("play")
    page.until(lambda: page.epoch() > held + 5, "training after the fix")
    page.click("pause")
    page.until(lambda: page.attr("data-running") == "false", "paused again")

    page.click("save")
    note = page.driver.find_element("css selector", '[data-role="note"]')
    page.until(lambda: "saved the model" in note.text, "saved")
    path = Path(note.text.rsplit(" to ", 1)[1])
    assert path.parent == page.server.out
    model = nn.load(path)
    assert len(model.parameters()) == 2 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3

    page.click("reset")
    page.until(lambda: page.attr("data-epoch") == "0", "reset")
    assert page.attr("data-loss") == "" and page.attr("data-running") == "false"
    page.driver.save_screenshot(str(page.server.out / "playground.png"))


def test_a_point_and_a_neuron_at_a_pause(page):
    regions = page.driver.find_element("css selector", "canvas.agl-regions")
    heading = page.driver.find_element("css selector", ".agl-heading")
    before = heading.text
    page.driver.execute_script(
        "var c = arguments[0], r = c.getBoundingClientRect();"
        "c.dispatchEvent(new MouseEvent('click', {clientX: r.left + 3, clientY: r.top + 3}));",
        regions,
    )
    page.until(lambda: heading.text != before, "the view follows the clicked point")
    assert "backprop on training point" in heading.text
    page.driver.find_element("css selector", '[data-neuron="L1.N0"]').click()
    page.until(
        lambda: page.driver.find_elements("css selector", ".agl-neuron-panel .agl-player svg"),
        "the neuron's player",
    )
    note = page.driver.find_element("css selector", '[data-role="note"]').text
    assert note.startswith("L1.N0 on training point ")


def test_live_the_view_reads_its_epoch_and_every_label_is_whole(page):
    """Live there is no film to scrub: no slider, no "(1 / 1)", the epoch and its loss;
    at 1200 px every value of the drawing is whole at every step of the backward pass."""
    from selenium.webdriver.common.keys import Keys

    page.click("step")
    page.until(
        lambda: page.attr("data-epoch") == "1" and page.attr("data-running") == "false", "one epoch"
    )
    slider = page.driver.find_element("css selector", ".agl-epoch-slider")
    epoch = page.driver.find_element("css selector", ".agl-epoch").text
    assert not slider.is_displayed()
    assert epoch.startswith("1, loss ") and "/" not in epoch
    # one epoch's loss is a dot on the curves (a one-point line would draw nothing)
    assert page.driver.find_elements("css selector", ".agl-curves circle.agl-loss")
    page.driver.set_window_size(1200, 900)
    try:
        page.root.send_keys(Keys.HOME)
        for _ in range(6):  # 2-16-16-3: 4 forward steps, 3 backward
            assert page.driver.execute_script(OUTSIDE_TEXT) == [], page.attr("data-step")
            page.root.send_keys(Keys.ARROW_RIGHT)
        assert page.attr("data-phase") == "backward"
        page.driver.execute_script(WIDEST_VALUES)
        assert page.driver.execute_script(OUTSIDE_TEXT) == []
    finally:
        page.driver.set_window_size(1280, 900)


def test_a_diverging_run_says_so_and_resets(page):
    page.set("optimizer", "sgd")
    page.set("activation", "linear")
    page.set("lr", "10")
    page.click("play")
    page.until(lambda: "training diverged in epoch" in page.error(), "the DivergenceError")
    assert page.attr("data-running") == "false"
    page.click("reset")
    page.until(lambda: page.error() == "" and page.attr("data-epoch") == "0", "reset")


def readout(page: Page) -> str:
    return page.driver.find_element("css selector", '[data-role="readout"]').text


def curve(page: Page, which: str) -> list[str]:
    """The points of a loss curve, read in one call (the view redraws it at every frame)."""
    points = page.driver.execute_script(
        "var c = document.querySelector(arguments[0]); return c ? c.getAttribute('points') : ''",
        f".agl-curves polyline.agl-loss{which}",
    )
    return points.split()

"""The playground without a browser: its state object, its server through the real socket,
its command line. (The page in Chromium: test_playground_browser.py.)"""

from __future__ import annotations

import json
import math
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra: pip install -e '.[playground]'")
websockets_sync = pytest.importorskip("websockets.sync.client")

from playground_server import ask, receive, serve  # noqa: E402

import nn  # noqa: E402
from autograd_lite.cli import main  # noqa: E402
from viz.playground import Playground, PlaygroundError  # noqa: E402
from viz.playground.state import DEFAULTS, parse_setting  # noqa: E402

SMALL = {"points": "60", "hidden": "4", "test_fraction": "0"}  # 2-4-3 on 60 spiral points


def until(playground: Playground, done, timeout: float = 20.0) -> None:
    """Wait (on the playground's version) until ``done()``; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    version = None
    while not done():
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; status: {playground.status()}"
        version = playground.wait(version, min(left, 0.5))


@pytest.fixture
def playground(tmp_path):
    pg = Playground(tmp_path / "out", SMALL)
    yield pg
    pg.close()


# ---- the state object -------------------------------------------------------------------


def test_a_step_is_one_epoch_of_fit(playground):
    """The playground trains through nn.train.fit: one step = fit's first epoch, exactly."""
    playground.step()
    until(playground, lambda: playground.epoch == 1)
    model = nn.MLP(2, [4, 3], "relu", seed=0)
    X, y = nn.data.make_spirals(60, seed=0)
    history = nn.train.fit(
        model,
        X,
        y,
        optimizer=nn.optim.Adam(model.parameters(), lr=DEFAULTS["lr"]),
        epochs=1,
        batch_size=DEFAULTS["batch_size"],
        seed=0,
        compile=True,
        progress=False,
    )
    status = playground.status()
    assert status["epoch"] == 1 and status["running"] is False
    assert status["loss"] == pytest.approx(history.loss[0], rel=1e-12)
    frame = playground.frame()
    np.testing.assert_allclose(
        frame["snapshot"]["params"], [p.data for p in model.parameters()], rtol=1e-12
    )
    assert frame["snapshot"]["epoch"] == 1
    assert frame["snapshot"]["loss"] == status["loss"]
    assert frame["curves"]["loss"] == [status["loss"]]
    assert frame["curves"]["test"] == []  # SMALL holds nothing out


def test_held_out_figures_of_the_frames_make_a_curve(tmp_path):
    pg = Playground(tmp_path, {**SMALL, "test_fraction": "0.25"})
    try:
        for epoch in (1, 2):
            pg.step()
            until(pg, lambda e=epoch: pg.epoch == e)
            frame = pg.frame()
        pg.frame()  # the same epoch again: no second entry
        test = pg.frame()["curves"]["test"]
        assert [t["epoch"] for t in test] == [1, 2]
        X_test, y_test = pg.X_test, pg.y_test
        loss, accuracy = nn.train.evaluate(pg.model, X_test, y_test)  # paused at epoch 2
        assert test[-1]["test_loss"] == pytest.approx(loss, rel=1e-9)
        assert test[-1]["test_accuracy"] == pytest.approx(accuracy)
        assert frame["snapshot"]["test_loss"] == test[-1]["test_loss"]
    finally:
        pg.close()


def test_play_pause_reset(playground):
    first = [p.data for p in playground.model.parameters()]
    playground.play()
    until(playground, lambda: playground.epoch >= 3)
    playground.pause()
    until(playground, lambda: playground.status()["speed"] == 0.0)
    time.sleep(0.05)  # an epoch that was under way has been published by now
    held = playground.epoch
    time.sleep(0.3)
    assert playground.epoch == held  # pause holds the epoch
    losses = playground.status()
    assert losses["loss"] is not None and not losses["running"]
    playground.reset()
    status = playground.status()
    assert (status["epoch"], status["loss"], status["running"]) == (0, None, False)
    assert playground.frame()["snapshot"]["params"] == first  # the seed's initial weights


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"lr": "-1"}, "lr: expected a positive number, got '-1'"),
        ({"lr": "NaN"}, "lr: expected a positive number"),
        ({"lr": 1e9}, "lr: expected a learning rate of at most 10, got '1000000000.0'"),
        ({"lr": "abc"}, "lr: expected a positive number, got 'abc'"),
        ({"hidden": "1000000"}, "hidden: at most 10 hidden layers of at most 1,000 neurons"),
        ({"hidden": "16,,16"}, "hidden: expected comma-separated positive layer sizes"),
        ({"hidden": "1000,1000,1000"}, "too big for the playground"),
        ({"dataset": "mnist"}, "dataset: unknown dataset 'mnist'; choose one of moons"),
        ({"points": "5"}, "points: expected at least 10 points"),
        ({"points": "1e9"}, "points: expected at least 10 points, got '1e9'"),
        ({"points": "2000", "dataset": "digits"}, "points: digits has 1,797 images"),
        ({"noise": "-0.1"}, "noise: expected a noise from 0 to 2"),
        ({"test_fraction": "1"}, "test_fraction: expected a fraction in [0, 1)"),
        ({"batch_size": "0"}, "batch_size: expected a positive integer"),
        ({"weight_decay": "inf"}, "weight_decay: expected a weight decay from 0 to 1"),
        ({"engine": "gpu"}, "engine: unknown engine 'gpu'; choose one of compile, scalar"),
        ({"optimizer": "rmsprop"}, "optimizer: unknown optimizer 'rmsprop'"),
        ({"seed": "-1"}, "seed: expected an integer from 0"),
        ({"epochs": "10"}, "unknown setting 'epochs'"),
        ({"lr": True}, "lr: expected text or a number, got True"),
        ({"lr": ["0.1"]}, "lr: expected text or a number"),
        ({"lr": "1" * 101}, "lr: expected at most 100 characters, got 101"),
        ({"lr": "0.05", "points": "3"}, "points: expected at least 10 points"),  # all or none
    ],
)
def test_bad_settings_change_nothing(playground, changes, fragment):
    playground.step()
    until(playground, lambda: playground.epoch == 1)
    before, version = playground.status(), playground.version
    with pytest.raises(PlaygroundError) as caught:
        playground.configure(changes)
    assert fragment in str(caught.value)
    assert playground.version == version
    after = playground.status()
    assert after["settings"] == before["settings"] and after["epoch"] == 1
    assert playground.optimizer.lr == DEFAULTS["lr"]


@pytest.mark.parametrize(
    "message, fragment",
    [
        ("{", "message: not valid JSON"),
        ('{"type": "settings", "settings": {"lr": NaN}}', "NaN is not a number JSON allows"),
        ("[1, 2]", "message: expected a JSON object, got [1, 2]"),
        ('{"type": "dance"}', "message: unknown type 'dance'; types: settings, action"),
        ('{"type": "action", "action": "fly"}', "action: unknown action 'fly'"),
        ('{"type": "settings", "settings": [1]}', "settings: expected an object"),
        ('{"type": "sample", "index": 60}', "sample: no training point 60; there are 60"),
        ('{"type": "sample", "index": "3"}', "sample: expected a point's index, got '3'"),
        ('{"type": "neuron", "label": "L9.N0"}', "neuron: viz.network: no neuron 'L9.N0'"),
        ("[" * 100_000, "message: expected at most 10,000 characters"),
    ],
)
def test_bad_messages_are_refused(playground, message, fragment):
    version = playground.version
    with pytest.raises(PlaygroundError, match=".") as caught:
        playground.handle(message)
    assert fragment in str(caught.value)
    assert playground.version == version


def test_settings_that_take_effect(playground):
    playground.configure({"lr": "0.05", "weight_decay": "0.001"})
    assert (playground.optimizer.lr, playground.optimizer.weight_decay) == (0.05, 0.001)
    playground.configure({"optimizer": "sgd"})
    assert type(playground.optimizer) is nn.optim.SGD and playground.optimizer.momentum == 0.9
    playground.configure({"optimizer": "adamw"})
    assert type(playground.optimizer) is nn.optim.AdamW
    playground.configure({"dataset": "circles", "hidden": "", "noise": "0"})
    status = playground.status()
    assert status["shape"] == [2, 2] and status["settings"]["hidden"] == ""
    X, _ = nn.data.make_circles(60, noise=0.0)
    np.testing.assert_allclose(np.sort(np.hypot(*playground.X.T)), np.sort(np.hypot(*X.T)))
    playground.configure({"dataset": "xor"})  # a new data set: its own default noise
    assert playground.status()["settings"]["noise"] is None
    assert playground.status()["noise_default"] == 0.05


def test_divergence_shows_the_error_and_reset_clears_it(playground):
    playground.configure({"optimizer": "sgd", "lr": "10", "activation": "linear"})
    playground.step()  # the call of fit that diverges starts at epoch 1: epochs are the run's
    until(playground, lambda: playground.epoch == 1)
    playground.play()
    until(playground, lambda: playground.error is not None)
    error = playground.status()["error"]
    match = re.match(r"training diverged in epoch (\d+): the loss of a batch is (nan|inf)", error)
    assert match, error
    last = int(match.group(1)) - 1
    assert f"the view shows epoch {last}, the last before it" in error
    assert playground.epoch == last and not playground.running
    shown = playground.frame()["snapshot"]["params"]
    assert all(math.isfinite(v) for v in shown)
    assert [p.data for p in playground.model.parameters()] == shown  # the last good weights
    playground.reset()
    assert playground.status()["error"] is None and playground.epoch == 0


def test_save_writes_what_nn_load_reads(playground, tmp_path):
    playground.step()
    until(playground, lambda: playground.epoch == 1)
    reply = playground.handle({"type": "action", "action": "save"})
    path = tmp_path / "out" / "playground-spirals-2-4-3-epoch1.json"
    assert reply == {"type": "ok", "saved": str(path)}
    model = nn.load(path)
    assert [p.data for p in model.parameters()] == playground.frame()["snapshot"]["params"]


def test_a_clicked_point_and_a_neuron(playground):
    playground.handle({"type": "sample", "index": 7})
    frame = playground.frame()
    assert frame["base"]["sample"]["index"] == 7
    assert frame["base"]["sample"]["why"] == "chosen by a click"
    assert frame["snapshot"]["sample"]["loss"] > 0
    reply = playground.handle({"type": "neuron", "label": "L0.N1"})
    player = reply["neuron"]
    assert player["caption"].startswith("L0.N1 on training point 7 at epoch 0")
    assert "<svg" in player["svg"] and player["data"]["backward"]


def _losses(playground, params):
    """Each training point's loss at ``params``, by the scalar engine."""
    model = nn.MLP(2, [4, 3], "relu", seed=0)
    for p, v in zip(model.parameters(), params):
        p.data = v
    return [
        nn.softmax_cross_entropy(model([float(v) for v in x]), int(c)).data
        for x, c in zip(playground.X, playground.y)
    ]


def test_at_a_pause_the_view_follows_the_largest_loss_at_the_current_weights(playground):
    """Not the worst point of epoch 0 (which may teach nothing later): the worst now; a
    clicked point stays until another click or reset."""
    first = playground.frame()["base"]["sample"]["index"]
    seen = {first}
    for epoch in range(1, 7):
        playground.step()
        until(playground, lambda e=epoch: playground.epoch == e and not playground.running)
        frame = playground.frame()
        losses = _losses(playground, frame["snapshot"]["params"])
        index = frame["base"]["sample"]["index"]
        assert index == int(np.argmax(losses))
        assert frame["snapshot"]["sample"]["loss"] == pytest.approx(max(losses), rel=1e-9)
        assert frame["base"]["sample"]["why"].startswith(f"the largest loss at epoch {epoch}")
        seen.add(index)
    assert len(seen) > 1  # the worst point moved as the network learned: the check can fail
    playground.handle({"type": "sample", "index": 7})
    playground.step()
    until(playground, lambda: playground.epoch == 7 and not playground.running)
    assert playground.frame()["base"]["sample"]["index"] == 7
    playground.reset()
    frame = playground.frame()
    assert frame["base"]["sample"]["index"] == first
    assert frame["base"]["sample"]["why"].startswith("the largest loss at epoch 0")


def test_parse_setting_reads_text_and_numbers():
    assert parse_setting("hidden", " 8, 4 ") == [8, 4]
    assert parse_setting("lr", 0.5) == 0.5 and parse_setting("points", 100) == 100
    assert parse_setting("noise", "") is None


# ---- the server, through its real socket ---------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("playground-out")) as running:
        yield running


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def test_every_request_needs_the_token(server):
    assert status_of(server.url) == 200
    wrong = ("1" if server.token[0] == "0" else "0") + server.token[1:]  # one character off
    for path in ("/", "/?token=", "/?token=" + wrong, "/static/network.js"):
        assert status_of(server.base + path) == 403, path
    assert status_of(f"{server.base}/static/playground.js?token={server.token}") == 200
    assert status_of(f"{server.base}/static/secret.py?token={server.token}") == 404
    for token in (None, "wrong"):
        with pytest.raises(websockets_sync.InvalidStatus) as caught:
            websockets_sync.connect(server.ws_url(token), open_timeout=10)
        assert caught.value.response.status_code == 403


def test_the_page_names_the_controls(server):
    with urllib.request.urlopen(server.url, timeout=10) as response:
        page = response.read().decode()
    for name in (*DEFAULTS, "test_fraction"):
        assert f'name="{name}"' in page
    for action in ("play", "pause", "step", "reset", "save"):
        assert f'data-action="{action}"' in page
    assert 'data-role="error"' in page and 'data-autograd-lite="network"' in page


def test_two_pages_see_the_same_run_and_bad_input_is_answered(server):
    with (
        websockets_sync.connect(server.ws_url(server.token), open_timeout=10) as one,
        websockets_sync.connect(server.ws_url(server.token), open_timeout=10) as two,
    ):
        first = receive(one, "frame")
        assert "base" in first and first["curves"]["start"] == 0
        epoch = first["status"]["epoch"]
        assert ask(one, {"type": "action", "action": "step"}, 1) == {"type": "ok", "id": 1}
        for page in (one, two):
            frame = receive(page, "frame", timeout=20)
            while frame["status"]["epoch"] != epoch + 1:
                frame = receive(page, "frame", timeout=20)
            assert frame["snapshot"]["epoch"] == epoch + 1
        for bad in ("{", json.dumps({"type": "settings", "settings": {"lr": "-1"}, "id": 2})):
            reply = ask(one, bad, 2)
            assert reply["type"] == "error" and reply["message"], reply
        one.send(b"\xff\xfe")  # not even text
        assert receive(one, "error")["message"].startswith("message: not valid JSON")
        reply = ask(two, {"type": "settings", "settings": {"lr": "0.03"}}, 4)
        assert reply == {"type": "ok", "id": 4}
        frame = receive(one, "frame", timeout=20)
        while frame["status"]["settings"]["lr"] != 0.03:
            frame = receive(one, "frame", timeout=20)


# ---- the command line -----------------------------------------------------------------------


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "autograd_lite", "playground", "--no-browser"]
            + ["--port", str(port), "--out", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"autograd-lite: error: port {port} on 127.0.0.1 is in use; choose another with "
        "--port (--port 0 picks a free one)\n"
    )


def test_without_starlette_it_says_how_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "starlette", None)
    assert main(["playground", "--no-browser", "--out", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "autograd-lite: error: the playground needs Starlette and uvicorn (starlette is "
        "missing): pip install 'autograd-lite[playground]'\n"
    )


def test_all_interfaces_warn_and_sigint_exits_0(tmp_path):
    with serve(tmp_path, "--host", "0.0.0.0") as running:
        assert running.url.startswith("http://0.0.0.0:")
        with websockets_sync.connect(
            running.ws_url(running.token).replace("0.0.0.0", "127.0.0.1"), open_timeout=10
        ) as page:
            receive(page, "frame")
            code, out, err = running.stop()  # with a page still open
    assert code == 0, err
    assert "autograd-lite: warning: --host 0.0.0.0 serves the playground to every machine" in err
    assert "Traceback" not in err


def test_digits_train_without_heatmaps(tmp_path):
    pytest.importorskip("sklearn", reason="digits need the data extra")
    pg = Playground(tmp_path, {"dataset": "digits", "points": "200", "hidden": "16"})
    try:
        assert pg.status()["shape"] == [64, 16, 10] and pg.status()["noise_default"] is None
        pg.step()
        until(pg, lambda: pg.epoch == 1)
        frame = pg.frame()
        assert frame["base"]["image"] == [8, 8] and "box" not in frame["base"]
        assert "heat" not in frame["snapshot"] and frame["snapshot"]["epoch"] == 1
    finally:
        pg.close()


def test_hosts_in_urls_and_the_loopback_check(monkeypatch):
    from autograd_lite.cli import playground as command

    assert command.url_host("::1") == "[::1]" and command.url_host("127.0.0.1") == "127.0.0.1"
    assert (
        command.loopback("127.0.0.2") and command.loopback("::1") and command.loopback("localhost")
    )
    assert not command.loopback("0.0.0.0") and not command.loopback("example.org")
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not command.has_display()
    monkeypatch.setenv("DISPLAY", ":0")
    assert command.has_display()

"""The lessons in JupyterLab as ``make lab`` serves them, as a student meets them.

One real JupyterLab server for the module, started with exactly the commands
``LAB_DRY_RUN=1 make lab`` prints (sign the lessons as trusted, then ``jupyter
lab`` with the project's config, the repository as its root, the login token)
on a free port, in a copy of the repository (so a save never touches the
working tree) with its own Jupyter data, runtime, config and settings folders
(so the user's trust database is left alone). Then, without running a cell:

- every lesson comes back trusted from the server, and in headless Chromium
  notebook 01 shows its graph as a picture and its player with working
  controls; a copy that is not trusted still shows the graph (the PNG beside
  the SVG), never the text ``<viz.drawing.Drawing>``;
- saving a lesson the way JupyterLab does (a PUT of the notebook model, with
  the kernel's Python version and the cell metadata JupyterLab adds) leaves
  the notebook and its paired source byte for byte as they were, and a saved
  lesson stays trusted;
- every relative link in every Markdown file and notebook resolves through
  the server (HTTP 200), and every ``#anchor`` names a heading or an
  ``<a id>`` of its target.

Skips only when JupyterLab (the ``lab`` extra, which ``make test`` installs),
``make``, or (for the browser test) Chromium is absent.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from browser import chromium

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("jupyterlab") is None,
        reason="JupyterLab is not installed (the lab extra: pip install -e '.[lab]')",
    ),
    pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed"),
    pytest.mark.xdist_group("lab"),  # one server for the module (pytest --dist loadgroup)
]


@dataclass
class Lab:
    """A running server: its base URL, login token and the repository copy it serves."""

    url: str
    token: str
    root: Path

    def request(
        self, method: str, path: str, body: object = None, query: str = ""
    ) -> tuple[int, bytes]:
        """(status, body) of an authenticated request to ``path`` (quoted here) and ``query``."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/{urllib.parse.quote(path)}" + (f"?{query}" if query else ""),
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def notebook(self, path: str) -> dict:
        """GET a notebook's model from the contents API, as JupyterLab opens it."""
        status, body = self.request("GET", f"api/contents/{path}")
        assert status == 200, f"GET {path}: {status} {body[:2000]!r}"
        return json.loads(body)["content"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_repository(target: Path) -> None:
    """The files git would check out (tracked, and new ones not ignored) into ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _make_lab_commands(port: int, token: str) -> tuple[list[str], list[str], str]:
    """The trust and server commands ``make lab`` runs, with this venv's programs, and its URL."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "DISPLAY")}
    lines = subprocess.run(
        ["make", "-s", "--no-print-directory", "lab", f"LAB_PORT={port}", f"LAB_TOKEN={token}"],
        cwd=ROOT,
        env={**env, "LAB_DRY_RUN": "1"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    _install, trust, server, url = lines
    venv_bin = Path(sys.executable).parent
    trust_argv = [sys.executable, *trust.split()[1:]]
    argv = server.split()
    assert argv[0] == f"JUPYTER_TOKEN={token}"
    server_argv = [str(venv_bin / Path(argv[1]).name), *argv[2:]]
    return trust_argv, server_argv, url.removeprefix("JupyterLab: ")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("the repository copy needs git")
    base = tmp_path_factory.mktemp("lab")
    root = base / "repo"
    _copy_repository(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH"))}
    for name in ("DATA", "RUNTIME", "CONFIG"):
        env[f"JUPYTER_{name}_DIR"] = str(base / name.lower())
    env["JUPYTERLAB_SETTINGS_DIR"] = str(base / "settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(base / "workspaces")
    port, token = _free_port(), secrets.token_hex(16)
    trust, server, url = _make_lab_commands(port, token)
    assert url == f"http://localhost:{port}/lab/tree/notebooks?token={token}"
    subprocess.run(trust, cwd=root, env=env, check=True, capture_output=True, timeout=120)
    log = (base / "server.log").open("wb")
    process = subprocess.Popen(
        server,
        cwd=root,
        env={**env, "JUPYTER_TOKEN": token},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its kernels too are stopped with it
    )
    lab = Lab(f"http://localhost:{port}", token, root)
    try:
        deadline = time.monotonic() + 90
        while not (_listening(port) and lab.request("GET", "api/status")[0] == 200):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{(base / 'server.log').read_text()}")
            time.sleep(0.3)
        yield lab
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        if hasattr(os, "killpg"):
            try:
                os.killpg(process.pid, signal.SIGKILL)  # a kernel left behind
            except ProcessLookupError:
                pass
        log.close()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


# --- 1. the pictures show before a cell is run ----------------------------------------------


def test_every_lesson_opens_trusted(lab: Lab) -> None:
    """``make lab`` signs the lessons: their stored HTML and SVG are shown as they are."""
    for name in LESSONS:
        nb = lab.notebook(f"notebooks/{name}")
        with_output = [c for c in nb["cells"] if c["cell_type"] == "code" and c["outputs"]]
        assert with_output, name
        untrusted = [c["id"] for c in with_output if not c["metadata"].get("trusted")]
        assert not untrusted, f"{name}: cells {untrusted} are not trusted"


_PANEL = "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer'"
_OUTPUTS = f"""
const panel = document.querySelector({_PANEL});
return [...panel.querySelectorAll('.jp-OutputArea-output')].map(o => ({{
  mime: o.getAttribute('data-mime-type'),
  text: o.innerText.slice(0, 200),
  pictures: [...o.querySelectorAll('img, svg')].filter(
    p => p.tagName.toLowerCase() === 'svg' || (p.complete && p.naturalWidth > 0)).length,
  player: o.querySelectorAll('.agl-player').length,
  controls: o.querySelectorAll('.agl-player button').length,
  sliders: o.querySelectorAll('.agl-player input[type=range]').length,
}}));
"""


def _open_and_read_outputs(driver, lab: Lab, path: str) -> list[dict]:
    """Open ``path`` in JupyterLab, scroll to the end (cells render as they come into view)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    # ?reset: a fresh workspace, this notebook alone
    driver.get(f"{lab.url}/lab/tree/{urllib.parse.quote(path)}?reset&token={lab.token}")
    WebDriverWait(driver, 90).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".jp-OutputArea-output"))
    )
    seen: dict[int, dict] = {}
    for _ in range(200):
        for i, output in enumerate(driver.execute_script(_OUTPUTS)):
            if output["text"] or output["pictures"] or output["controls"]:
                seen.setdefault(i, output)
        at_end = driver.execute_script(
            f"const p = document.querySelector({_PANEL}); p.scrollBy(0, 600);"
            "return p.scrollTop + p.clientHeight >= p.scrollHeight - 2;"
        )
        time.sleep(0.15)
        if at_end:
            break
    for i, output in enumerate(driver.execute_script(_OUTPUTS)):
        if output["text"] or output["pictures"] or output["controls"]:
            seen.setdefault(i, output)
    return [seen[i] for i in sorted(seen)]


def _stored_prompts(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll("
        "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputArea-prompt')].map(p => p.innerText)"
    )


def test_lessons_show_graph_and_player_before_a_cell_is_run(lab: Lab) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    # Not a lesson, so make lab did not sign it; trust goes by content, so the copy differs.
    copy = nbformat.read(lab.root / "notebooks" / LESSONS[0], as_version=4)
    copy.cells.insert(0, nbformat.v4.new_markdown_cell("A copy nobody trusted."))
    (lab.root / "untrusted").mkdir(exist_ok=True)
    nbformat.write(copy, lab.root / "untrusted" / "01.ipynb")
    with chromium() as driver:
        driver.set_window_size(1400, 1000)
        outputs = _open_and_read_outputs(driver, lab, f"notebooks/{LESSONS[0]}")
        graphs = [o for o in outputs if o["mime"] == "image/svg+xml" and o["pictures"]]
        players = [o for o in outputs if o["mime"] == "text/html" and o["player"]]
        assert graphs, f"{LESSONS[0]}: no graph shown; outputs {outputs}"
        assert players, f"{LESSONS[0]}: no player shown; outputs {outputs}"
        assert all(p["controls"] >= 3 and p["sliders"] == 1 for p in players), players
        assert not [o for o in outputs if "viz.drawing.Drawing" in o["text"]]
        assert "*" not in "".join(_stored_prompts(driver))  # nothing is running
        # The player is live: a key press moves its slider a step.
        player = driver.find_element(By.CSS_SELECTOR, ".agl-player")
        slider = player.find_element(By.CSS_SELECTOR, "input[type=range]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", player)
        before = int(slider.get_attribute("value"))
        driver.execute_script("arguments[0].focus()", player)
        player.send_keys(Keys.ARROW_RIGHT)
        assert int(slider.get_attribute("value")) == before + 1

        outputs = _open_and_read_outputs(driver, lab, "untrusted/01.ipynb")
        pngs = [o for o in outputs if o["mime"] == "image/png" and o["pictures"]]
        assert len(pngs) >= len(graphs), f"untrusted: graphs not shown as PNG: {outputs}"
        assert not [o for o in outputs if "viz.drawing.Drawing" in o["text"]]


# --- 2. looking changes nothing ---------------------------------------------------------------


def _as_jupyterlab_saves(nb: dict) -> dict:
    """What JupyterLab sends back after the kernel started and the reader scrolled."""
    nb["metadata"]["language_info"]["version"] = "3.99.0"  # the kernel's Python
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and cell["outputs"]:
            cell["metadata"]["scrolled"] = True
            cell["metadata"]["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    return nb


def test_saving_an_opened_lesson_rewrites_nothing(lab: Lab) -> None:
    for name in LESSONS:
        notebook = lab.root / "notebooks" / name
        source = lab.root / "notebooks" / "src" / f"{Path(name).stem}.py"
        stored, text = notebook.read_bytes(), source.read_bytes()
        # After `make notebooks` the notebook is newer than its source: jupytext must accept it.
        os.utime(notebook, (time.time() + 60, time.time() + 60))
        nb = _as_jupyterlab_saves(lab.notebook(f"notebooks/{name}"))
        body = {"type": "notebook", "format": "json", "content": nb}
        status, reply = lab.request("PUT", f"api/contents/notebooks/{name}", body)
        assert status == 200, reply[:2000]
        assert notebook.read_bytes() == stored, f"{name}: saving rewrote the notebook"
        assert source.read_bytes() == text, f"{name}: saving rewrote its source"


def test_an_edited_lesson_stays_trusted_after_saving(lab: Lab) -> None:
    name = LESSONS[-1]
    notebook = lab.root / "notebooks" / name
    stored = notebook.read_bytes()
    try:
        nb = lab.notebook(f"notebooks/{name}")
        code = next(c for c in nb["cells"] if c["cell_type"] == "code" and c["outputs"])
        code["outputs"] = [nbformat.v4.new_output("stream", name="stdout", text="edited\n")]
        body = {"type": "notebook", "format": "json", "content": nb}
        assert lab.request("PUT", f"api/contents/notebooks/{name}", body)[0] == 200
        saved = nbformat.read(notebook, as_version=4)
        assert "version" not in saved.metadata["language_info"]
        assert all("trusted" not in c.metadata for c in saved.cells)  # transient, never stored
        again = lab.notebook(f"notebooks/{name}")
        assert all(c["metadata"].get("trusted") for c in again["cells"] if c.get("outputs"))
    finally:
        notebook.write_bytes(stored)


# --- 3. links work where the lessons are read -------------------------------------------------

_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HREF = re.compile(r"""(?:href|src)=["']([^"']+)["']""")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
_ANCHOR = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
_FENCE = re.compile(r"^(```|~~~).*?^\1|<!--.*?-->", re.M | re.S)  # code and comments


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def _markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


def _anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", _markdown_of(path))
    return {_slug(h) for h in _HEADING.findall(text)} | set(_ANCHOR.findall(text))


def _documents(root: Path) -> list[Path]:
    skip = {".venv", ".git", "untrusted", ".ipynb_checkpoints"}
    found = [*root.rglob("*.md"), *(root / "notebooks").glob("*.ipynb")]
    return sorted(p for p in found if not skip & set(p.relative_to(root).parts))


def test_every_relative_link_resolves_through_the_server(lab: Lab) -> None:
    broken, checked = [], 0
    for document in _documents(lab.root):
        text = _FENCE.sub("", _markdown_of(document))
        for target in {*_LINK.findall(text), *_HREF.findall(text)}:
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, data:
                continue
            where, _, anchor = target.partition("#")
            resolved = (
                (document.parent / urllib.parse.unquote(where)).resolve() if where else document
            )
            name = f"{document.relative_to(lab.root)}: {target}"
            if not resolved.is_relative_to(lab.root):
                broken.append(f"{name} leaves the repository")
                continue
            served = resolved.relative_to(lab.root).as_posix()
            status, _ = lab.request("GET", f"api/contents/{served}", query="content=0")
            if status != 200:
                broken.append(f"{name} -> {status}")
            elif anchor and (resolved.is_dir() or anchor not in _anchors(resolved)):
                broken.append(f"{name}: no heading or <a id> '{anchor}' in {served}")
            checked += 1
    assert checked >= 20, f"only {checked} links found"
    assert not broken, "\n".join(broken)


def test_links_in_exported_html_resolve_beside_it(lab: Lab) -> None:
    """``jupyter nbconvert --to html`` writes the page beside the lesson; its links work there."""
    pytest.importorskip("nbconvert")
    from nbconvert import HTMLExporter

    lesson = lab.root / "notebooks" / LESSONS[0]
    page, _ = HTMLExporter().from_filename(str(lesson))
    (lesson.with_suffix(".html")).write_text(page, encoding="utf-8")
    base = f"files/notebooks/{lesson.with_suffix('.html').name}"
    assert lab.request("GET", base)[0] == 200
    hrefs = {h for h in _HREF.findall(page) if not re.match(r"^([a-z][a-z0-9+.-]*:|#)", h)}
    assert hrefs, "the exported lesson links nowhere"
    for href in sorted(hrefs):
        where = urllib.parse.urljoin(base, href.partition("#")[0])
        status, _ = lab.request("GET", urllib.parse.unquote(where))
        assert status == 200, f"{href} from the exported page: {status}"


# --- 4. viz.live in a real kernel ---------------------------------------------------------------

_LIVE_CELLS = [
    "import nn, viz\n"
    "X, y = nn.data.make_spirals(60, seed=0)\n"
    "model = nn.MLP(2, [4, 3], seed=0)\n"
    "live = viz.live(model, X, y, interval=0)\n"
    "live",
    "import time\n"
    "def slowly(epoch, history):\n"
    "    live(epoch, history)\n"
    "    time.sleep(0.1)  # a pace the page can be watched at\n"
    "history = nn.train.fit(model, X, y, epochs=20, batch_size=16, progress=False,\n"
    "                       optimizer=nn.optim.Adam(model.parameters(), lr=0.05),\n"
    "                       callback=slowly)\n"
    "print('done', len(history.loss))",
]


def test_viz_live_updates_its_view_while_fit_runs_in_jupyterlab(lab: Lab) -> None:
    """A student's two cells, run in JupyterLab's own kernel through the page: the widget
    shows the network view, and its ``data-epoch`` rises to 20 while ``fit`` runs."""
    pytest.importorskip("anywidget")
    from selenium.common.exceptions import (
        ElementNotInteractableException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.wait import WebDriverWait

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in _LIVE_CELLS]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(notebook, lab.root / "live.ipynb")
    with chromium() as driver:
        driver.set_window_size(1400, 1000)
        driver.get(f"{lab.url}/lab/tree/live.ipynb?reset&token={lab.token}")
        wait = WebDriverWait(driver, 60, poll_frequency=0.1)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"))

        def kernel_idle(d) -> bool:  # JupyterLab may ask which kernel: accept its choice
            for button in d.find_elements(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept"):
                try:
                    button.click()
                except (StaleElementReferenceException, ElementNotInteractableException):
                    pass
            return not d.find_elements(By.CSS_SELECTOR, ".jp-Dialog") and d.execute_script(
                "return /\\| Idle/.test(document.querySelector('#jp-main-statusbar').innerText)"
            )

        wait.until(kernel_idle)

        def select_first(d) -> bool:  # JupyterLab redraws the cells as it settles
            try:
                d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell .jp-InputArea-editor")[
                    0
                ].click()
                return True
            except (StaleElementReferenceException, ElementNotInteractableException, IndexError):
                return False

        wait.until(select_first)
        epochs: list[str] = []

        def epoch(d) -> str:
            value = d.execute_script(
                "var r = document.querySelector('.jp-OutputArea [data-autograd-lite=\"network\"]');"
                "return r ? r.getAttribute('data-epoch') : null"
            )
            if value is not None and (not epochs or epochs[-1] != value):
                epochs.append(value)
            return value

        def run_cell() -> None:  # Shift+Enter: run the selected cell, select the next
            ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(
                Keys.SHIFT
            ).perform()

        run_cell()  # the widget
        wait.until(lambda d: epoch(d) == "0")
        run_cell()  # fit
        wait.until(lambda d: epoch(d) == "20")
        wait.until(lambda d: "done 20" in d.find_element(By.CSS_SELECTOR, ".jp-Notebook").text)
    numbers = [int(e) for e in epochs]
    assert numbers == sorted(numbers) and len(numbers) > 3, epochs  # it rose, frame by frame

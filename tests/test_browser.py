"""Real-browser tests: JupyterLab and Voilà in headless Chromium, driven by Playwright.

A widget that renders in a unit test can still show "Error displaying widget" in
the browser (an ipywidgets / jupyterlab_widgets version mismatch, a missing
front-end extension). Only a real browser proves it renders, so these tests:

- start ``jupyter lab`` on a free loopback port with a token, open a temporary
  copy of ``notebooks/01_physics_of_build_vs_buy.ipynb``, run all cells, check
  that no cell shows an error and the panels render, drag one slider and check
  that the number and chart it drives changed, and save ``build/browser/lab.png``;
- prepare lesson 1's dashboard for a persona as ``make workshop`` does, serve it
  with ``voila``, check that it shows every panel, the persona and no code, change
  a dropdown and check that the output changed (``build/browser/voila.png``).

The browser is Debian's ``/usr/bin/chromium`` (Playwright's own browser
download is not available here). Without it the tests skip with a reason,
except under ``CI=true``, where a missing browser is a failure.

Every server runs in its own session, with temporary runtime, config and
settings folders (nothing of the user's leaks in). The fixtures stop it and
then check, process by process, that the server and every kernel it started
are gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("BUILDBUY_CHROMIUM", "/usr/bin/chromium"))
ARTEFACTS = REPO / "build" / "browser"
LESSON_01 = REPO / "notebooks" / "01_physics_of_build_vs_buy.ipynb"
DASHBOARD = REPO / "notebooks" / "dashboards" / "01_physics_of_build_vs_buy.ipynb"

#: Flags for Debian's Chromium in a closed network (without the
#: background-networking ones it keeps trying to reach Google and the
#: sandboxed CI refuses the connections).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

START_TIMEOUT_S = 120.0
RUN_TIMEOUT_MS = 240_000

pytestmark = pytest.mark.browser


# --------------------------------------------------------------------------- processes


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children() -> dict[int, int]:
    """Map pid -> parent pid for every process visible in /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: split after it
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (kernels, their helpers)."""
    parents = _children()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


@dataclass
class Server:
    """A Jupyter-family server we started: its process, URL and token."""

    proc: subprocess.Popen[bytes]
    base_url: str
    token: str
    log: Path

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path}{sep}token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])


def _isolated_env(tmp: Path) -> dict[str, str]:
    """Environment with private Jupyter runtime/config/settings folders under ``tmp``."""
    env = dict(os.environ)
    for var, sub in {
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
        "IPYTHONDIR": "ipython",
    }.items():
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / sub)
    # No "Would you like to receive Jupyter news?" toast over the notebook.
    news = tmp / "lab-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    # Render every cell: JupyterLab 4 virtualises long notebooks by default, so cells
    # scrolled out of view would be missing from the page we inspect.
    tracker = tmp / "lab-settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env["MPLBACKEND"] = "Agg"
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def start_server(cmd: list[str], *, tmp: Path, cwd: Path, token: str, port: int,
                 ready_path: str) -> Server:
    """Start ``cmd`` in its own session and wait until ``ready_path`` answers HTTP.

    Any answer below 500 counts (Voilà has no status endpoint; a 404 from its
    router proves it is up). JupyterLab's ``/api/status`` answers 200.
    """
    log = tmp / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=cwd, env=_isolated_env(tmp), stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(proc, f"http://127.0.0.1:{port}", token, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url(ready_path), timeout=5) as resp:
                if resp.status == 200:
                    return server
        except urllib.error.HTTPError as exc:  # it answers HTTP: routing works
            if exc.code < 500:
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    stop_server(server, graceful_path=None)
    raise RuntimeError(f"{cmd[0]} did not answer within {START_TIMEOUT_S:.0f} s:\n"
                       f"{server.log_tail()}")


def stop_server(server: Server, *, graceful_path: str | None) -> None:
    """Stop the server and every process it started; raise if any survives.

    ``graceful_path`` is an endpoint that shuts the server down cleanly (Jupyter
    Server's ``POST /api/shutdown`` also shuts down its kernels). Without one,
    or when it does not work, the server gets SIGTERM, then SIGKILL. Kernels
    run in sessions of their own, so they are tracked by pid, not by group.
    """
    proc = server.proc
    spawned = descendants(proc.pid)
    if graceful_path is not None and proc.poll() is None:
        req = urllib.request.Request(server.url(graceful_path), method="POST", data=b"")
        try:
            urllib.request.urlopen(req, timeout=10).close()
            proc.wait(timeout=30)
        except (urllib.error.URLError, ConnectionError, TimeoutError,
                subprocess.TimeoutExpired):
            pass
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in spawned):
        time.sleep(0.25)
    survivors = sorted(p for p in spawned if _alive(p))
    for pid in survivors:  # clean up, then fail: a leak is a bug in the shutdown path
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert proc.poll() is not None, "server process still running"
    assert not survivors, f"processes left running after shutdown: {survivors}"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright's sync API."""
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}:
            pytest.fail(f"{CHROMIUM} is missing and CI is set: install Debian's 'chromium'")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); "
                    "set CI=true to make this a failure")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def lab(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    """JupyterLab serving a temporary copy of lesson 1; stopped and checked afterwards."""
    root = tmp_path / "root"
    root.mkdir()
    # A copy without stored outputs or prompt numbers: whatever the page shows
    # afterwards was produced by this browser session's kernel.
    nb = json.loads(LESSON_01.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb["metadata"].pop("widgets", None)
    (root / LESSON_01.name).write_text(json.dumps(nb, indent=1))
    token, port = secrets.token_hex(16), _free_port()
    cmd = [str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.expose_app_in_browser=True",
           "--LabServerApp.workspaces_dir=" + str(tmp_path / "lab-workspaces")]
    server = start_server(cmd, tmp=tmp_path, cwd=root, token=token, port=port,
                          ready_path="/api/status")
    try:
        yield server, root / LESSON_01.name
    finally:
        stop_server(server, graceful_path="/api/shutdown")


@pytest.fixture()
def voila(tmp_path: Path) -> Iterator[Server]:
    """Voilà serving lesson 1's dashboard prepared as ``make workshop`` prepares it."""
    from buildbuy import workshop

    prepared = workshop.prepare("hospital_notes", tmp_path / "workshop")
    page = next(p for p in prepared if p.name == DASHBOARD.name)
    token, port = secrets.token_hex(16), _free_port()
    cmd = [str(BIN / "voila"), str(page), "--no-browser",
           f"--port={port}", "--Voila.ip=127.0.0.1", f"--token={token}",
           "--show_tracebacks=True"]  # a failing cell names its error in the page
    server = start_server(cmd, tmp=tmp_path, cwd=page.parent, token=token, port=port,
                          ready_path="/voila/static/")
    try:
        yield server
    finally:
        stop_server(server, graceful_path=None)


# --------------------------------------------------------------------------- page helpers

#: JS: a fingerprint of what the panels show, leaving out the controls themselves
#: (a slider's own readout changes when it moves; that proves nothing).
_OUTPUT_FINGERPRINT = """
(root) => {
  const scope = root ? document.querySelector(root) : document;
  const html = [...scope.querySelectorAll('.widget-html-content, .jupyter-widgets-output-area')]
      .map(e => e.innerText).join('\\n');
  const images = [...scope.querySelectorAll('.widget-image, .jupyter-widgets img')]
      .map(e => e.getAttribute('src') || '').join('|');
  return html + '\\n#images:' + images;
}
"""


#: JS: the current notebook's kernel is connected and idle (needs expose_app_in_browser).
_KERNEL_READY = """
() => {
  const kernel = window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}
"""


def _widget_errors(page: object) -> list[str]:
    texts = page.locator("text=Error displaying widget").all_inner_texts()  # type: ignore[attr-defined]
    return [t for t in texts if t.strip()]


def _drag_slider(page: object, handle: object, dx_px: float) -> None:
    box = handle.bounding_box()  # type: ignore[attr-defined]
    assert box is not None, "slider handle is not visible"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    mouse = page.mouse  # type: ignore[attr-defined]
    mouse.move(x, y)
    mouse.down()
    mouse.move(x + dx_px, y, steps=8)
    mouse.up()


def _wait_changed(page: object, before: str, root: str | None, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    after = before
    while time.monotonic() < deadline:
        after = page.evaluate(_OUTPUT_FINGERPRINT, root)  # type: ignore[attr-defined]
        if after != before:
            return after
        time.sleep(0.25)
    return after


# --------------------------------------------------------------------------- tests


def test_lab_runs_lesson_01_and_slider_drives_the_panel(browser: object,
                                                        lab: tuple[Server, Path]) -> None:
    server, notebook = lab
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(server.url(f"/lab/tree/{notebook.name}"), timeout=RUN_TIMEOUT_MS)
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=RUN_TIMEOUT_MS)
        # The kernel is connected and idle before we run anything (a Run All sent
        # while the session is still starting is dropped).
        page.wait_for_function(_KERNEL_READY, timeout=RUN_TIMEOUT_MS, polling=250)

        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

        n_code = sum(c["cell_type"] == "code" for c in json.loads(notebook.read_text())["cells"])
        assert n_code > 0, "the notebook has no code cells"
        # Each cell's prompt becomes "[n]:" when it has run, "[*]:" while queued or
        # running. Run All stops at the first error, leaving later cells at "[ ]:".
        page.wait_for_function(
            """(n) => {
                 const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                     .map(e => e.textContent.trim());
                 const failed = document.querySelector(
                     '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
                     + ', .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]');
                 if (failed && !p.includes('[*]:')) return true;
                 return p.length === n && p.every(t => /^\\[\\d+\\]:$/.test(t));
               }""",
            arg=n_code, timeout=RUN_TIMEOUT_MS, polling=500)

        errors = page.locator(".jp-OutputArea-output[data-mime-type="
                              "'application/vnd.jupyter.error']")
        assert errors.count() == 0, f"cells raised errors:\n{errors.all_inner_texts()}"
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        assert len(prompts) == n_code and all(re.fullmatch(r"\[\d+\]:", t.strip())
                                              for t in prompts), f"cells not run: {prompts}"
        tracebacks = [t for t in page.locator(".jp-OutputArea-output").all_inner_texts()
                      if "Traceback (most recent call last)" in t]
        assert not tracebacks, f"a cell printed a traceback:\n{tracebacks[0]}"

        sliders = page.locator(".jp-OutputArea .widget-slider .noUi-handle")
        sliders.first.wait_for(timeout=60_000)
        assert not _widget_errors(page), "a widget failed to render in JupyterLab"
        assert page.locator(".jp-OutputArea .widget-image").count() > 0, "no panel chart"
        not_computed = [t for t in page.locator(".widget-html-content").all_inner_texts()
                        if t.startswith("Not computed")]
        assert not not_computed, f"a panel starts in an error state: {not_computed}"

        # Fingerprint only the output area of the cell that holds the first slider.
        slider = sliders.first
        slider.scroll_into_view_if_needed()
        slider.evaluate("(h) => h.closest('.jp-Cell').setAttribute('data-bb-probe', '1')")
        probe = "[data-bb-probe='1']"
        readout = page.locator(f"{probe} .widget-readout").first
        before, value_before = page.evaluate(_OUTPUT_FINGERPRINT, probe), readout.inner_text()
        # One step down with the keyboard, as a learner tabbing to the slider would
        # (a smaller batch always still fits in memory); up if it sits at its minimum.
        slider.focus()
        page.keyboard.press("ArrowLeft")
        if readout.inner_text() == value_before:
            page.keyboard.press("ArrowRight")
        after = _wait_changed(page, before, probe)
        value_after = readout.inner_text()
        assert value_after != value_before, f"the slider did not move ({value_before})"
        assert after != before, (f"moving the slider {value_before} -> {value_after} changed "
                                 "neither the numbers nor the chart")
        # ... and by mouse: drag the handle, as in the room.
        before, value_before = after, value_after
        _drag_slider(page, slider, dx_px=-40)
        after = _wait_changed(page, before, probe)
        assert readout.inner_text() != value_before, "dragging did not move the slider"
        assert after != before, "dragging the slider changed neither the numbers nor the chart"
        assert not _widget_errors(page)
    finally:  # the screenshot is the artefact to look at, pass or fail
        page.screenshot(path=str(ARTEFACTS / "lab.png"), full_page=False)
        context.close()


def test_voila_dashboard_renders_widgets_no_code_and_dropdown_drives_output(
        browser: object, voila: Server) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(voila.url("/"), timeout=RUN_TIMEOUT_MS)
        dropdown = page.locator(".widget-dropdown select")
        dropdown.first.wait_for(timeout=RUN_TIMEOUT_MS)
        page.locator(".widget-image").first.wait_for(timeout=RUN_TIMEOUT_MS)
        assert not _widget_errors(page), "a widget failed to render in Voilà"
        sources = "".join("".join(c["source"]) for c in json.loads(DASHBOARD.read_text())["cells"]
                          if c["cell_type"] == "code")
        n_panels = len(re.findall(r"\w+_panel\(", sources))
        page.wait_for_function("(n) => document.querySelectorAll('.widget-image').length >= n",
                               arg=n_panels, timeout=RUN_TIMEOUT_MS, polling=250)
        body = page.inner_text("body")
        assert "Traceback" not in body, f"the dashboard shows an error:\n{body[:2000]}"
        # No code: no code-cell input, editor or prompt, no source line of the dashboard
        # (Markdown cells do render inside a .jp-InputArea, so only code cells count).
        code = page.locator(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .cm-editor, .CodeMirror")
        assert code.count() == 0, f"the dashboard shows code: {code.all_inner_texts()[:3]}"
        assert "from buildbuy" not in body and "scenario =" not in body
        assert "hospital_notes" in body, "the dashboard did not start from the chosen persona"

        select = dropdown.first
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("(s) => s.options[s.selectedIndex].text")
        assert len(options) > 1, f"the first dropdown offers one option only: {options}"
        other = next(o for o in options if o != current)
        before = page.evaluate(_OUTPUT_FINGERPRINT, None)
        select.select_option(label=other)
        after = _wait_changed(page, before, None)
        assert after != before, f"changing the dropdown {current!r} -> {other!r} changed nothing"
        assert not _widget_errors(page)
    finally:
        page.screenshot(path=str(ARTEFACTS / "voila.png"), full_page=True)
        context.close()

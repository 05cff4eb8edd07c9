"""Real-browser tests: a learner's journey through JupyterLab and Voilà in headless Chromium.

A widget that renders in a unit test can still show "Error displaying widget" in
the browser (an ipywidgets / jupyterlab_widgets version mismatch, a missing
front-end extension), and a form that checks answers headlessly can still fail to
reach the kernel from a page. Only a real browser proves the journey works, so
these tests walk it as a learner would, driven by Playwright:

- **JupyterLab**: start ``jupyter lab`` on a free loopback port with a token, open
  ``00_start_here``, run all of lesson 1 (no cell shows an error, the panels render,
  a slider moved by keyboard and by mouse changes the number and chart it drives),
  then open exercise 1, run it, and complete it through its no-code form: a wrong
  answer gets the code track's hint, the right answers all get a green check, and
  the answers file lands next to the notebook (``build/browser/lab-*.png``);
- **Voilà**: prepare the dashboards for a persona as ``make workshop`` does and serve
  the folder; open lesson 0's and lesson 1's pages (every panel, the persona, no
  code; a dropdown drives the output), then exercise 1's no-code page: type a
  learner id, answer, check, and find the answers in the instructor's folder under
  that learner (``build/browser/voila-*.png``).

Every wait is an explicit condition on the page (a selector, a function of the DOM),
never a fixed sleep. The browser is Debian's ``/usr/bin/chromium`` (Playwright's own
browser download is not available here). Without it the tests skip with a reason,
except under ``CI=true``, where a missing browser is a failure.

Every server runs in its own session, with temporary runtime, config and
settings folders (nothing of the user's leaks in). The fixtures stop it and
then check, process by process, that the server and every kernel it started
are gone (``tests/browser_helpers.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_helpers import BIN, Server, free_port, start_server, stop_server
from buildbuy import questions, scenarios
from buildbuy.forms import answers as form_answers
from buildbuy.forms.parse import format_number

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("BUILDBUY_CHROMIUM", "/usr/bin/chromium"))
ARTEFACTS = REPO / "build" / "browser"
START_HERE = REPO / "notebooks" / "00_start_here.ipynb"
LESSON_01 = REPO / "notebooks" / "01_physics_of_build_vs_buy.ipynb"
EXERCISE_01 = REPO / "exercises" / "01_bottleneck_audit.ipynb"
DASHBOARD = REPO / "notebooks" / "dashboards" / "01_physics_of_build_vs_buy.ipynb"
EXERCISE = EXERCISE_01.stem
EXERCISE_DASHBOARD = REPO / "notebooks" / "dashboards" / f"exercise_{EXERCISE}.ipynb"

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

RUN_TIMEOUT_MS = 240_000
CHANGE_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


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


def _blank_copy(src: Path, dst_dir: Path) -> Path:
    """A copy without stored outputs or prompt numbers: whatever the page shows
    afterwards was produced by this browser session's kernel."""
    nb = json.loads(src.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb["metadata"].pop("widgets", None)
    dst = dst_dir / src.name
    dst.write_text(json.dumps(nb, indent=1))
    return dst


@pytest.fixture()
def lab(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    """JupyterLab serving copies of lesson 0, lesson 1 and exercise 1; stopped and checked."""
    root = tmp_path / "root"
    root.mkdir()
    for src in (START_HERE, LESSON_01, EXERCISE_01):
        _blank_copy(src, root)
    token, port = secrets.token_hex(16), free_port()
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
        yield server, root
    finally:
        stop_server(server, graceful_path="/api/shutdown")


@pytest.fixture()
def voila(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    """Voilà serving the dashboards prepared as ``make workshop`` prepares them, with the
    instructor's answers folder outside the served one."""
    from buildbuy import workshop

    served, answers = tmp_path / "workshop", tmp_path / "answers"
    workshop.prepare("hospital_notes", served, answers_dir=answers)
    token, port = secrets.token_hex(16), free_port()
    cmd = [str(BIN / "voila"), str(served), "--no-browser",
           f"--port={port}", "--Voila.ip=127.0.0.1", f"--token={token}",
           "--show_tracebacks=True"]  # a failing cell names its error in the page
    server = start_server(cmd, tmp=tmp_path, cwd=served, token=token, port=port,
                          ready_path="/voila/static/")
    try:
        yield server, answers
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


def _wait_changed(page: object, before: str, root: str | None) -> str:
    """Wait until the fingerprint of ``root`` differs from ``before``; return the new one
    (unchanged if it never does, so the caller's assertion names what did not move)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(  # type: ignore[attr-defined]
            f"([root, before]) => ({_OUTPUT_FINGERPRINT})(root) !== before",
            arg=[root, before], timeout=CHANGE_TIMEOUT_MS, polling=250)
    return page.evaluate(_OUTPUT_FINGERPRINT, root)  # type: ignore[attr-defined,no-any-return]


def _open_in_lab(page: object, server: Server, name: str) -> None:
    """Open a notebook in JupyterLab and wait until its kernel is connected and idle (a
    Run All sent while the session is still starting is dropped). ``?reset`` starts from
    an empty workspace, so the notebook is the only tab and the one Run All acts on."""
    page.goto(server.url(f"/lab/tree/{name}?reset"), timeout=RUN_TIMEOUT_MS)  # type: ignore[attr-defined]
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=RUN_TIMEOUT_MS)  # type: ignore[attr-defined]
    page.wait_for_function(_KERNEL_READY, timeout=RUN_TIMEOUT_MS, polling=250)  # type: ignore[attr-defined]


def _run_all_in_lab(page: object, notebook: Path) -> None:
    """Run All Cells and wait for every prompt to show a number; no cell may fail."""
    page.get_by_role("menuitem", name="Run", exact=True).click()  # type: ignore[attr-defined]
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()  # type: ignore[attr-defined]
    n_code = sum(c["cell_type"] == "code" for c in json.loads(notebook.read_text())["cells"])
    assert n_code > 0, f"{notebook.name} has no code cells"
    # Each cell's prompt becomes "[n]:" when it has run, "[*]:" while queued or
    # running. Run All stops at the first error, leaving later cells at "[ ]:".
    page.wait_for_function(  # type: ignore[attr-defined]
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
    errors = page.locator(".jp-OutputArea-output[data-mime-type="  # type: ignore[attr-defined]
                          "'application/vnd.jupyter.error']")
    assert errors.count() == 0, f"cells raised errors:\n{errors.all_inner_texts()}"
    prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()  # type: ignore[attr-defined]
    assert len(prompts) == n_code and all(re.fullmatch(r"\[\d+\]:", t.strip())
                                          for t in prompts), f"cells not run: {prompts}"
    tracebacks = [t for t in page.locator(".jp-OutputArea-output").all_inner_texts()  # type: ignore[attr-defined]
                  if "Traceback (most recent call last)" in t]
    assert not tracebacks, f"a cell printed a traceback:\n{tracebacks[0]}"


def _right_answers(persona: str) -> dict[str, str]:
    """What a learner who gets exercise 1 right types or picks, per question (from the
    registry: a question added to the exercise is answered here too)."""
    S = scenarios.load(persona)
    out = {}
    for q in questions.for_exercise(EXERCISE):
        expected = q.expected(S)
        if q.kind == "numeric":
            out[q.id] = "never" if expected is None else format_number(expected)
        elif q.kind == "choice":
            out[q.id] = str(expected)
        else:
            raise AssertionError(f"exercise 1 has a {q.kind} question: extend the journey")
    return out


def _answer(page: object, qid: str, value: str) -> None:
    field = page.locator(f".buildbuy-field-{qid}")  # type: ignore[attr-defined]
    if questions.get(qid).kind == "choice":
        field.locator("select").select_option(label=value.replace("_", " "))
    else:
        field.locator(".buildbuy-input input").fill(value)


def _complete_form(page: object, persona: str) -> None:
    """Exercise 1 through its no-code form: one wrong answer first (it gets the code
    track's hint), then every answer right and one press of "Check all and save"."""
    page.locator(".buildbuy-form").wait_for(timeout=RUN_TIMEOUT_MS)  # type: ignore[attr-defined]
    assert not _widget_errors(page), "a widget of the form failed to render"
    right = _right_answers(persona)
    q = questions.get("ex1_binding")
    wrong = next(c for c in q.choices if c != right[q.id])
    _answer(page, q.id, wrong)
    field = page.locator(f".buildbuy-field-{q.id}")  # type: ignore[attr-defined]
    field.get_by_role("button", name="Check").click()
    field.locator(".buildbuy-incorrect").wait_for(timeout=CHANGE_TIMEOUT_MS)
    assert q.hint in field.locator(".buildbuy-status").inner_text()
    for qid, value in right.items():
        _answer(page, qid, value)
    page.get_by_role("button", name="Check all and save").click()  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        """(n) => document.querySelectorAll('.buildbuy-form .buildbuy-status').length >= n
                  && [...document.querySelectorAll('.buildbuy-form .buildbuy-status')]
                     .every(e => !e.classList.contains('buildbuy-incorrect'))
                  && document.querySelectorAll('.buildbuy-form .buildbuy-correct').length === n""",
        arg=len(right), timeout=RUN_TIMEOUT_MS, polling=250)
    page.get_by_text(f"Saved {len(right)} answers").wait_for(timeout=CHANGE_TIMEOUT_MS)  # type: ignore[attr-defined]
    assert not _widget_errors(page)


# --------------------------------------------------------------------------- tests


def test_lab_journey_lesson_0_lesson_1_and_exercise_1_without_code(
        browser: object, lab: tuple[Server, Path]) -> None:
    server, root = lab
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    step = "lesson-0"
    try:
        # 0. The course opens at lesson 0.
        _open_in_lab(page, server, START_HERE.name)
        assert "Start here" in page.locator(".jp-MarkdownCell").first.inner_text()

        # 1. Lesson 1 runs top to bottom and its panels answer the controls.
        step = "lesson-1"
        _open_in_lab(page, server, LESSON_01.name)
        _run_all_in_lab(page, root / LESSON_01.name)
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
        page.screenshot(path=str(ARTEFACTS / "lab-lesson-1.png"), full_page=False)

        # 2. Exercise 1 without code: run it, answer in the form, see the checks.
        step = "exercise-1"
        _open_in_lab(page, server, EXERCISE_01.name)
        _run_all_in_lab(page, root / EXERCISE_01.name)
        _complete_form(page, "bank_support")
        saved = form_answers.load_answers(root / f"{EXERCISE}.answers.json", EXERCISE,
                                          scenarios.load("bank_support"))
        assert sorted(saved) == sorted(_right_answers("bank_support"))
    finally:  # the screenshot is the artefact to look at, pass or fail
        page.screenshot(path=str(ARTEFACTS / f"lab-{step}.png"), full_page=False)
        context.close()


def test_voila_journey_dashboards_and_exercise_1_form_with_a_learner_id(
        browser: object, voila: tuple[Server, Path]) -> None:
    server, answers = voila
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    step = "lesson-0"
    try:
        # 0. Lesson 0's page shows its panel for the room's persona.
        page.goto(server.url(f"/voila/render/{START_HERE.name}"), timeout=RUN_TIMEOUT_MS)
        page.locator(".widget-image").first.wait_for(timeout=RUN_TIMEOUT_MS)
        assert not _widget_errors(page), "a widget failed to render in Voilà"
        assert "hospital_notes" in page.inner_text("body")

        # 1. Lesson 1's page: every panel, no code, and a dropdown drives the output.
        step = "lesson-1"
        page.goto(server.url(f"/voila/render/{DASHBOARD.name}"), timeout=RUN_TIMEOUT_MS)
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
        _assert_no_code(page, body, DASHBOARD)
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
        page.screenshot(path=str(ARTEFACTS / "voila-lesson-1.png"), full_page=True)

        # 2. Exercise 1's no-code page: a learner id, the answers, the checks.
        step = "exercise-1"
        page.goto(server.url(f"/voila/render/{EXERCISE_DASHBOARD.name}"),
                  timeout=RUN_TIMEOUT_MS)
        page.locator(".buildbuy-form").wait_for(timeout=RUN_TIMEOUT_MS)
        body = page.inner_text("body")
        assert "Traceback" not in body, f"the form page shows an error:\n{body[:2000]}"
        _assert_no_code(page, body, EXERCISE_DASHBOARD)
        learner = page.locator(".buildbuy-learner input")
        learner.fill("Ada Lovelace")
        learner.press("Enter")
        _complete_form(page, "hospital_notes")
        folder = form_answers.learner_folder(answers, "Ada Lovelace")
        saved = form_answers.load_answers(folder / f"{EXERCISE}.answers.json", EXERCISE,
                                          scenarios.load("hospital_notes"))
        assert sorted(saved) == sorted(_right_answers("hospital_notes"))
        assert (folder / f"{EXERCISE}.ipynb").is_file(), "no gradable notebook for the learner"
    finally:
        page.screenshot(path=str(ARTEFACTS / f"voila-{step}.png"), full_page=True)
        context.close()


def _assert_no_code(page: object, body: str, dashboard: Path) -> None:
    """No code-cell input, editor or prompt, and no source line of the dashboard (Markdown
    cells do render inside a .jp-InputArea, so only code cells count)."""
    code = page.locator(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .cm-editor, .CodeMirror")  # type: ignore[attr-defined]
    assert code.count() == 0, f"the page shows code: {code.all_inner_texts()[:3]}"
    lines = [ln.split("#", 1)[0].strip() for c in json.loads(dashboard.read_text())["cells"]
             if c["cell_type"] == "code" for ln in "".join(c["source"]).splitlines()]
    shown = [ln for ln in lines if ln and ln in body]
    assert not shown, f"the page shows source lines: {shown[:3]}"

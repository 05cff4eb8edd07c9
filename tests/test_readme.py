"""Every command in the README's code blocks works as written, on a fresh copy of the repository.

The copy holds the tracked files only (no ``build/``, as after ``git clone``) and borrows
this checkout's ``.venv``, so ``make`` finds its environment up to date. Each ``bash``
command of the README is listed in :data:`COMMANDS` with what the test does with it:

- ``run``: run it verbatim with ``bash -c`` in the copy and check what it produced;
- ``serve``: long-running servers (``make lab``, ``make workshop``): start it verbatim,
  check that it answers and serves what the README promises, then stop it and every
  process it started. A free port comes through the environment (``JUPYTER_PORT`` for
  JupyterLab, ``PORT`` for the Makefile), so the command text stays the README's;
- a skip reason, for what cannot run here (the test suite itself, conda, a cluster).

A README command missing from the table fails :func:`test_every_readme_command_is_covered`,
so a new command cannot go untested by accident. The Python blocks run too.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from sandbox_helpers import require_sandbox

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent

LAB = "make lab"
WORKSHOP_LOCAL = "make workshop PERSONA=hospital_notes"
WORKSHOP_ROOM = "make workshop HOST=0.0.0.0 TOKEN=sesame PERSONA=bank_support"
PAPERMILL = ("mkdir -p build && .venv/bin/papermill notebooks/02_economic_teardown_tco.ipynb "
             "build/my_tco.ipynb -p scenario retail_search -y "
             "'{\"overrides\": {\"monthly_tokens\": 2.0e10}}'")
GRADE = ".venv/bin/buildbuy exercises grade submissions/ --out grades.csv"
_CLUSTER = ("a Dask cluster on several hosts (a head node named 'head', a shared /shared); "
            "tests/test_reports_robust.py runs the same --scheduler path on a local cluster")

_ENDPOINT = ("needs that endpoint (the OpenAI API and a key, or a vLLM, TGI or Ollama server); "
             "CI has neither the network nor a GPU. tests/test_audit.py runs the same command "
             "line against the practice lab")

#: every bash command of the README -> "run", "serve", or why it is skipped here
COMMANDS: dict[str, str] = {
    LAB: "serve",
    "make test": "skip: it is this test suite (CI runs it through .ci/run)",
    ("mamba env create -f environment.yml && conda activate buildbuy && jupyter lab "
     "--ServerApp.root_dir=. notebooks/00_start_here.ipynb"):
        "skip: needs conda/mamba, which CI does not have; its JupyterLab part is make lab's",
    PAPERMILL: "run",
    WORKSHOP_LOCAL: "serve",
    WORKSHOP_ROOM: "serve",
    GRADE: "run",
    "make workshop ANSWERS=/srv/room42":
        "skip: the same server as make workshop PERSONA=... (served above), saving answers to "
        "another folder; tests/test_workshop.py checks --answers-dir",
    "dask scheduler --port 8786": f"skip: {_CLUSTER}",
    "dask worker tcp://head:8786 --nworkers 16 --nthreads 1 --memory-limit 3GiB":
        f"skip: {_CLUSTER}",
    ".venv/bin/buildbuy reports cohort.csv --out /shared/reports/q4 --scheduler tcp://head:8786":
        f"skip: {_CLUSTER}",
    (".venv/bin/buildbuy audit https://api.openai.com/v1 --model gpt-4o-mini --api-key-env "
     "OPENAI_API_KEY --concurrency 1,4,16 --requests 16 --prompt-tokens 128 --output-tokens 64 "
     "--out audit_openai"): f"skip: {_ENDPOINT}",
    (".venv/bin/buildbuy audit http://localhost:8000/v1 --model meta-llama/Llama-3.1-8B-Instruct "
     "--gpu H100-SXM --tps-model llama-3.1-8b --out audit_vllm"): f"skip: {_ENDPOINT}",
    ".venv/bin/buildbuy audit http://localhost:8080/v1 --model tgi --out audit_tgi":
        f"skip: {_ENDPOINT}",
    ".venv/bin/buildbuy audit http://localhost:11434/v1 --model llama3.1:8b --out audit_ollama":
        f"skip: {_ENDPOINT}",
}


def code_blocks(lang: str) -> list[str]:
    """The bodies of the README's fenced code blocks in ``lang`` (also inside list items)."""
    found = re.findall(rf"^([ \t]*)```{lang}\n(.*?)^\1```", README, flags=re.M | re.S)
    return [textwrap.dedent(body) for _, body in found]


def readme_commands() -> list[str]:
    """Every command of the README's ``bash`` blocks: continuation lines joined, comments
    and surplus spaces removed."""
    found = []
    for block in code_blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                found.append(re.sub(r"\s+", " ", line))
    return found


def test_every_readme_command_is_covered() -> None:
    assert readme_commands(), "no bash block found in the README"
    assert set(readme_commands()) == set(COMMANDS), (
        "README commands and this test's table differ; add the new command to COMMANDS:\n"
        f"{sorted(set(readme_commands()) ^ set(COMMANDS))}")


# --------------------------------------------------------------------------- a fresh copy

def _tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    return [f for f in out.stdout.decode().split("\0") if f]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tracked files in a new folder (timestamps kept) and this checkout's venv."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout to know which files are tracked")
    stamp = REPO / ".venv" / ".buildbuy-installed"
    if not stamp.exists() or stamp.stat().st_mtime < (REPO / "pyproject.toml").stat().st_mtime:
        # make in the copy would reinstall the shared venv, pointing it at the copy
        pytest.fail("the venv is older than pyproject.toml: run `make venv` first (the copy "
                    "borrows this checkout's .venv and must not reinstall it)")
    root = tmp_path_factory.mktemp("clone") / "buildbuy"
    for rel in _tracked_files():
        src = REPO / rel
        if src.is_file():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / rel)
    (root / ".venv").symlink_to(REPO / ".venv")
    assert not (root / "build").exists()
    return root


def _run(cmd: str, cwd: Path, timeout_s: float = 900,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout_s, env={**os.environ, **(env or {})})


def test_make_dry_run_finds_the_environment_up_to_date(clone: Path) -> None:
    """The copy's make does not rebuild the venv (else every test below would)."""
    out = _run("make -n lab", clone)
    assert out.returncode == 0, out.stderr
    assert "pip install" not in out.stdout


@pytest.mark.slow
def test_papermill_example_runs_on_a_fresh_clone(clone: Path) -> None:
    out = _run(PAPERMILL, clone)
    assert out.returncode == 0, out.stderr[-2000:]
    nb = json.loads((clone / "build" / "my_tco.ipynb").read_text())
    injected = next(c for c in nb["cells"]
                    if "injected-parameters" in c["metadata"].get("tags", []))
    assert 'scenario = "retail_search"' in "".join(injected["source"])
    assert not [o for c in nb["cells"] for o in c.get("outputs", [])
                if o.get("output_type") == "error"]


@pytest.mark.slow
def test_grade_example_runs_on_a_folder_of_submissions(clone: Path) -> None:
    require_sandbox()
    name = "01_bottleneck_audit.ipynb"
    (clone / "submissions" / "ann").mkdir(parents=True)
    shutil.copy(clone / "solutions" / name, clone / "submissions" / "ann" / name)
    out = _run(GRADE, clone)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = list(csv.DictReader((clone / "grades.csv").open()))
    assert rows and {r["status"] for r in rows} == {"correct"}
    assert "success" in out.stdout


def test_python_blocks_run_and_print_what_they_say(clone: Path) -> None:
    blocks = code_blocks("python")
    assert len(blocks) >= 2
    params = next(b for b in blocks if b.startswith("scenario ="))
    ns: dict[str, object] = {}
    exec(params, ns)  # the parameters cell as shown
    assert ns["scenario"] == "bank_support" and ns["overrides"] == {}
    snippet = next(b for b in blocks if "tps.decode" in b)
    out = subprocess.run([sys.executable, "-c", snippet], cwd=clone, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    step_ms, tokens_per_s, bound = first.split()
    assert (round(float(step_ms), 1), bound) == (9.5, "memory_bandwidth")  # "~9.5 ms"
    assert round(float(tokens_per_s), -1) == 3360  # "~3,360 tokens/s"
    b_usd, a_usd = (float(x) for x in second.split())
    assert (round(b_usd, 5), round(a_usd, 5)) == (0.00066, 0.00026)  # "$0.00066 vs $0.00026"
    assert "$0.00066" in README and "$0.00026" in README


def test_the_whole_decision_after_a_bare_import(clone: Path) -> None:
    expr = re.search(r"`D = (buildbuy\.decision\.decide\(buildbuy\.scenarios\.load\("
                     r"\"bank_support\"\)\))`", README)
    assert expr is not None, "the README no longer shows the one-line decision"
    code = f"import buildbuy\nD = {expr.group(1)}\nprint(D.recommendation)"
    out = subprocess.run([sys.executable, "-c", code], cwd=clone, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() in {"build", "buy", "hybrid", "neither"}


# --------------------------------------------------------------------------- servers

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout_s: float = 300) -> tuple[int, str, str]:
    """(status, final URL, body) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return resp.status, resp.url, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, url, exc.read().decode("utf-8", "replace")


def _kernels(pid: int) -> list[psutil.Process]:
    try:
        procs = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            if "ipykernel" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
    return found


@contextlib.contextmanager
def _serving(cmd: str, cwd: Path, env: dict[str, str], ready_url: str,
             log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``cmd`` (a README command) in its own session; wait for ``ready_url``; stop it
    and check that nothing it started is left."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, env={**os.environ, **env},
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    spawned: set[int] = set()
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, f"{cmd!r} exited:\n{log.read_text()[-3000:]}"
            with contextlib.suppress(psutil.Error):
                spawned |= {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
            try:
                with urllib.request.urlopen(ready_url, timeout=5):
                    break
            except urllib.error.HTTPError:
                break  # it answers HTTP
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, f"{cmd!r} did not come up:\n" \
                    f"{log.read_text()[-3000:]}"
                time.sleep(0.5)
        yield proc
    finally:
        with contextlib.suppress(psutil.Error):
            spawned |= {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        left = []
        for pid in spawned:
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE:
                    left.append(pid)
                    p.kill()
        assert not left, f"{cmd!r} left processes running: {left}"


def _jupyter_env(tmp: Path) -> dict[str, str]:
    env = {"BROWSER": "true"}  # JupyterLab "opens" its page with /bin/true
    for var in ("JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "JUPYTERLAB_SETTINGS_DIR",
                "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR"):
        (tmp / var.lower()).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / var.lower())
    return env


@pytest.mark.slow
def test_make_lab_serves_the_whole_repository(clone: Path, tmp_path: Path) -> None:
    port, token = _free_port(), secrets.token_hex(8)
    env = {**_jupyter_env(tmp_path), "JUPYTER_PORT": str(port), "JUPYTER_TOKEN": token}
    base = f"http://127.0.0.1:{port}"
    with _serving(LAB, clone, env, f"{base}/api/status?token={token}", tmp_path / "lab.log"):
        for folder, example in (("exercises", "01_bottleneck_audit.ipynb"),
                                ("solutions", "01_bottleneck_audit.ipynb"),
                                ("notebooks", "00_start_here.ipynb")):
            status, _, body = _get(f"{base}/api/contents/{folder}?token={token}")
            assert status == 200, f"lab cannot open {folder}/: {status}"
            assert example in {c["name"] for c in json.loads(body)["content"]}
        # the page make lab opens: lesson 0, under the repository root
        opened = " ".join(p.read_text() for p in (tmp_path / "jupyter_runtime_dir")
                          .glob("jpserver-*-open.html"))
        assert "lab/tree/notebooks/00_start_here.ipynb" in opened


@pytest.mark.slow
def test_make_workshop_serves_reports_bad_personas_and_culls_closed_pages(
        clone: Path, tmp_path: Path) -> None:
    from buildbuy import workshop

    port = _free_port()
    env = {**_jupyter_env(tmp_path), "PORT": str(port), "CULL_IDLE_S": "6",
           "CULL_INTERVAL_S": "2"}
    base = f"http://127.0.0.1:{port}"
    with _serving(WORKSHOP_LOCAL, clone, env, f"{base}/", tmp_path / "voila.log") as proc:
        assert (clone / "build" / "workshop" / "00_start_here.ipynb").is_file()
        status, _, page = _get(f"{base}/voila/render/00_start_here.ipynb?persona=bogus")
        assert status == 200
        assert "There was an error when executing cell" not in page
        assert "scenario=\\u0026#x27;bogus\\u0026#x27; is invalid" in page \
            or "scenario=&#x27;bogus&#x27; is invalid" in page
        assert "Showing" in page and "hospital_notes" in page
        # the page is closed (this client never connects to its kernel): culled in seconds
        deadline = time.monotonic() + 90
        while _kernels(proc.pid) and time.monotonic() < deadline:
            time.sleep(1)
        assert not _kernels(proc.pid), "the closed page's kernel was not culled"
    makefile = (REPO / "Makefile").read_text()
    assert f"CULL_IDLE_S     ?= {workshop.CULL_IDLE_S}" in makefile  # one number, one source
    assert f"CULL_INTERVAL_S ?= {workshop.CULL_INTERVAL_S}" in makefile
    assert "--MappingKernelManager.cull_connected=False" in makefile


@pytest.mark.slow
def test_make_workshop_for_a_room_asks_for_the_token(clone: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = {**_jupyter_env(tmp_path), "PORT": str(port)}
    base = f"http://127.0.0.1:{port}"
    with _serving(WORKSHOP_ROOM, clone, env, f"{base}/", tmp_path / "room.log"):
        status, url, _ = _get(f"{base}/")
        assert status == 403 or "login" in url, (status, url)
        status, _, body = _get(f"{base}/voila/render/00_start_here.ipynb?token=sesame")
        assert status == 200 and "bank_support" in body  # the room's persona

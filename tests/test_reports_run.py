"""End-to-end tests of ``buildbuy reports``: real kernels, papermill, nbconvert, Dask.

Rosters stay small (2-4 learners). The real template runs in one module-scoped
run; robustness tests (failure, kill, Dask) use a tiny template with the same
parameters cell so they take seconds.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from buildbuy.notebooks import execute
from buildbuy.reports import DEFAULT_TEMPLATE, cli_main, index, run_reports, state
from buildbuy.reports.ids import safe_id
from buildbuy.reports.worker import FIGURES_MIME, renumber

pytestmark = pytest.mark.slow

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_ID = "../../evil"


def _summary(out: Path) -> list[dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The real template for 2 valid learners (one hostile) and 2 invalid rows, 1 worker.

    The library digest is pinned for these runs: in a shared working tree other
    files change between runs, which (rightly) invalidates every stamp.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(state, "environment_digest", lambda: "pinned-for-the-test")
        yield _real_run(tmp_path_factory)


def _real_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("real")
    roster = _write(d / "roster.csv",
                    "learner_id,learner_name,email,scenario,horizon_months\n"
                    f"{HOSTILE_ID},{HOSTILE_NAME},x@example.com,hospital_notes,\n"
                    "ana,Ana,,retail_search,24\n"
                    "bad1,Bad,,bank_suport,\n"
                    "bad2,Bad,,bank_support,-3\n")
    out = d / "out"
    code = cli_main([str(roster), "--out", str(out), "--workers", "1", "--no-progress"])
    # right away, the second learner on a fresh kernel (papermill's own engine)
    fresh = d / "fresh.ipynb"
    execute(DEFAULT_TEMPLATE, fresh, {"scenario": "retail_search",
                                      "overrides": {"horizon_months": 24},
                                      "learner_id": "ana", "learner_name": "Ana"})
    return {"dir": d, "roster": roster, "out": out, "code": code, "fresh": fresh}


def test_small_roster_produces_expected_files_and_summary(real_run: dict) -> None:
    out = real_run["out"]
    assert real_run["code"] == 1  # two invalid rows
    s_evil, s_ana = safe_id(HOSTILE_ID), safe_id("ana")
    expected = {f"{s}{ext}" for s in (s_evil, s_ana) for ext in (".ipynb", ".html", ".stamp.json")}
    assert {p.name for p in out.iterdir()} == expected | {"summary.csv", "index.html"}
    rows = _summary(out)
    assert [r["status"] for r in rows] == ["ok", "ok", "invalid", "invalid"]
    assert [r["row"] for r in rows] == ["2", "3", "4", "5"]
    assert "did you mean 'bank_support'" in rows[2]["reason"]
    assert "horizon_months=-3 is invalid" in rows[3]["reason"]
    for r in rows[:2]:
        assert r["recommendation"] in {"build", "buy", "hybrid"}
        assert float(r["tco_a_usd"]) > 0 and float(r["npv_b_usd"]) > 0
    assert rows[1]["savings_3y_usd"] == ""  # a 24-month horizon has no 3-year savings
    html = (out / f"{s_ana}.html").read_text()
    assert html.rstrip().endswith("</html>")
    assert "scenarios.load(" not in html  # inputs hidden
    assert "In&nbsp;[" not in html and "In [" not in html  # prompts hidden
    assert FIGURES_MIME not in html


def test_figures_in_summary_match_the_library(real_run: dict) -> None:
    from buildbuy import scenarios, tco

    C = tco.compare(scenarios.load("retail_search", horizon_months=24))
    row = _summary(real_run["out"])[1]
    assert float(row["tco_a_usd"]) == pytest.approx(C.tco_usd["A"], rel=1e-9)
    assert float(row["npv_b_usd"]) == pytest.approx(C.npv_usd["B"], rel=1e-9)
    assert row["recommendation"] == C.recommendation


def test_hostile_names_and_ids_are_neutralised(real_run: dict) -> None:
    out, d = real_run["out"], real_run["dir"]
    assert not (d / "evil.html").exists() and not (d.parent / "evil.html").exists()
    assert all(p.resolve().parent == out.resolve() for p in out.iterdir())
    for page in ((out / f"{safe_id(HOSTILE_ID)}.html").read_text(),
                 (out / "index.html").read_text()):
        assert HOSTILE_NAME not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # the parameter reached the kernel as data: the notebook holds it as a string literal
    nb = nbformat.read(out / f"{safe_id(HOSTILE_ID)}.ipynb", as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'learner_name = "<script>alert(1)</script>"' in injected.source


def test_warm_kernel_gives_the_same_notebook_as_a_fresh_one(real_run: dict) -> None:
    """The second learner ran on the kernel the first one warmed up."""
    out = real_run["out"]
    nb = renumber(nbformat.read(real_run["fresh"], as_version=4))
    warm = (out / f"{safe_id('ana')}.ipynb").read_text(encoding="utf-8")
    assert nbformat.writes(nb).strip() == warm.strip()  # byte for byte, figures included


def test_resume_skips_up_to_date_learners_and_force_redoes_them(real_run: dict) -> None:
    out, roster = real_run["out"], real_run["roster"]
    html = out / f"{safe_id('ana')}.html"
    before = html.stat().st_mtime_ns
    code = cli_main([str(roster), "--out", str(out), "--workers", "1", "--no-progress"])
    assert code == 1
    rows = _summary(out)
    assert [r["status"] for r in rows] == ["skipped", "skipped", "invalid", "invalid"]
    assert rows[1]["tco_a_usd"] != ""  # figures come from the stamp
    assert html.stat().st_mtime_ns == before
    code = cli_main([str(roster), "--out", str(out), "--workers", "1", "--no-progress",
                     "--force"])
    assert [r["status"] for r in _summary(out)] == ["ok", "ok", "invalid", "invalid"]
    assert html.stat().st_mtime_ns > before


# --------------------------------------------------------------------------- tiny template
TINY_BODY = '''
import time
from buildbuy import scenarios
S = scenarios.load(scenario, **overrides)
if learner_id.startswith("boom"):
    raise RuntimeError("kaboom for " + learner_id)
time.sleep(float(overrides.get("annual_growth", 0.0)) * 10)
print("tokens", S.monthly_tokens)
'''
TINY_FIGURES = '''
display({"application/vnd.buildbuy.figures+json": {
    "recommendation": "buy" if S.monthly_tokens < 2e10 else "build",
    "payback_months": None, "savings_3y_usd": -S.monthly_tokens / 1e3,
    "tco_a_usd": S.monthly_tokens / 1e2, "tco_b_usd": 1e6, "npv_a_usd": 1.0,
    "npv_b_usd": 2.0}}, raw=True)
'''


@pytest.fixture
def tiny_template(tmp_path: Path) -> Path:
    params = new_code_cell('scenario = "bank_support"\noverrides = {}\nlearner_id = "demo"\n'
                           'learner_name = "Demo"')
    params.metadata["tags"] = ["parameters"]
    figs = new_code_cell(TINY_FIGURES.strip())
    figs.metadata["tags"] = ["report-figures"]
    nb = new_notebook(cells=[params, new_code_cell(TINY_BODY.strip()), figs])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_failed_notebook_keeps_partial_output_and_spares_the_next(tmp_path: Path,
                                                                   tiny_template: Path) -> None:
    # slow sleeps 20 s in one cell, longer than the 8 s cell timeout
    roster = _write(tmp_path / "r.csv", "learner_id,scenario,annual_growth\n"
                                        "boom1,bank_support,\nslow,bank_support,2.0\n"
                                        "fine,retail_search,\n")
    out = tmp_path / "out"
    summary = run_reports(roster, out, workers=1, template=tiny_template, progress=False,
                          timeout_s=8)
    assert summary.exit_code == 1
    rows = _summary(out)
    assert [r["status"] for r in rows] == ["failed", "failed", "ok"]
    assert "RuntimeError: kaboom for boom1" in rows[0]["reason"]
    assert "CellTimeoutError" in rows[1]["reason"]
    slow = nbformat.read(out / f"{safe_id('slow')}.ipynb", as_version=4)
    injected = next(c for c in slow.cells if "injected-parameters" in c.metadata["tags"])
    assert injected.execution_count is not None  # the cells before the slow one ran
    sid = safe_id("boom1")
    assert not (out / f"{sid}.html").exists() and not (out / f"{sid}.stamp.json").exists()
    partial = nbformat.read(out / f"{sid}.ipynb", as_version=4)
    errors = [o for c in partial.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors and errors[0]["evalue"] == "kaboom for boom1"
    assert f'href="{sid}.ipynb"' in (out / "index.html").read_text()
    assert float(rows[2]["tco_a_usd"]) == pytest.approx(5.0e10 / 1e2)  # retail_search volume


def test_killed_run_leaves_no_half_report_and_the_next_run_completes_it(
        tmp_path: Path, tiny_template: Path) -> None:
    # annual_growth 0.3 -> each learner sleeps 3 s inside the kernel
    roster = _write(tmp_path / "r.csv", "learner_id,scenario,annual_growth\n"
                    + "".join(f"k{i},bank_support,0.3\n" for i in range(4)))
    out = tmp_path / "out"
    digest = state.environment_digest()
    cmd = [sys.executable, "-m", "buildbuy", "reports", str(roster), "--out", str(out),
           "--workers", "1", "--no-progress", "--template", str(tiny_template)]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not list(out.glob("*.html")):
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        time.sleep(1.0)  # now in the middle of the second learner
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run, its worker and kernel: one group
        proc.wait(timeout=30)
    done = sorted(p.stem for p in out.glob("*.html"))
    assert 1 <= len(done) < 4, done
    for page in out.glob("*.html"):
        assert page.read_text().rstrip().endswith("</html>")
    assert not (out / "summary.csv").exists()

    code = cli_main([str(roster), "--out", str(out), "--workers", "1", "--no-progress",
                     "--template", str(tiny_template)])
    assert code == 0
    rows = {r["safe_id"]: r["status"] for r in _summary(out)}
    if state.environment_digest() == digest:  # always in CI; a shared tree may move
        assert all(rows[s] == "skipped" for s in done)
        assert sorted(rows.values()).count("ok") == 4 - len(done)
    assert set(rows.values()) <= {"ok", "skipped"}
    assert not [p for p in out.iterdir() if p.name.startswith(".bb-tmp-")]
    assert len(list(out.glob("k*.html"))) == 4 and (out / "index.html").is_file()


def test_dask_backend_gives_the_same_summary_as_local(tmp_path: Path,
                                                      tiny_template: Path) -> None:
    from distributed import Client, LocalCluster

    roster = _write(tmp_path / "r.csv",
                    "learner_id,learner_name,scenario,monthly_tokens\n"
                    "d1,One,bank_support,\nd2,<b>Two</b>,retail_search,\n"
                    "d3,Three,hospital_notes,3e10\nd4,Four,nowhere,\n")
    local = run_reports(roster, tmp_path / "local", workers=2, template=tiny_template,
                        progress=False)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        remote = run_reports(roster, tmp_path / "dask", scheduler=client,
                             template=tiny_template, progress=False)

    def strip(rows: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    assert strip(remote.rows) == strip(local.rows)
    assert [r["status"] for r in remote.rows] == ["ok", "ok", "ok", "invalid"]
    assert remote.exit_code == local.exit_code == 1
    a = (tmp_path / "local" / "summary.csv").read_text().splitlines()
    b = (tmp_path / "dask" / "summary.csv").read_text().splitlines()
    seconds = index.SUMMARY_COLUMNS.index("seconds")
    assert [r.split(",")[:seconds] for r in a] == [r.split(",")[:seconds] for r in b]
    sid = safe_id("d2")
    assert json.loads((tmp_path / "dask" / f"{sid}.stamp.json").read_text())["status"] == "ok"

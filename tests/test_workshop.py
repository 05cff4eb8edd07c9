"""Workshop mode: dashboards prepared for a persona, the URL persona switch, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from buildbuy import cli, scenarios, workshop

LESSONS = sorted(p.name for p in (workshop.REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def test_there_is_one_dashboard_per_lesson_named_like_it() -> None:
    names = [p.name for p in workshop.dashboard_paths()]
    assert names, "no dashboards in notebooks/dashboards/"
    assert set(LESSONS) <= set(names), f"lessons without a dashboard: {set(LESSONS) - set(names)}"


@pytest.mark.parametrize("path", workshop.dashboard_paths(), ids=lambda p: p.name)
def test_dashboard_is_code_free_widgets_only(path: Path) -> None:
    cells = _cells(path)
    code = [c for c in cells if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", [])
    assert all(not c["outputs"] for c in code), "commit dashboards without outputs"
    body = "\n".join("".join(c["source"]) for c in code)
    assert "workshop.load_scenario(scenario, overrides)" in body
    if path.name.startswith("exercise_"):
        stem = path.stem.removeprefix("exercise_")
        assert f'forms.exercise_form("{stem}", S, answers_dir=answers_dir or None)' in body
    else:
        assert "_panel(S)" in body, "a dashboard shows at least one panel of buildbuy.widgets"


def test_there_is_one_no_code_dashboard_per_exercise() -> None:
    from buildbuy import questions

    names = [p.name for p in workshop.dashboard_paths() if p.name.startswith("exercise_")]
    assert names == [f"exercise_{e}.ipynb" for e in questions.EXERCISES]


def test_prepare_injects_the_persona_into_every_dashboard(tmp_path: Path) -> None:
    answers = tmp_path / "answers"
    written = workshop.prepare("hospital_notes", tmp_path / "out",
                               overrides={"horizon_months": 24}, answers_dir=answers)
    assert [p.name for p in written] == [p.name for p in workshop.dashboard_paths()]
    for path in written:
        cells = _cells(path)
        injected = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
        assert len(injected) == 1
        src = "".join(injected[0]["source"])
        assert 'scenario = "hospital_notes"' in src and 'overrides = {"horizon_months": 24}' in src
        # the answers folder goes to the exercise forms only, as an absolute path
        assert (f'answers_dir = "{answers.resolve()}"' in src) == \
            path.name.startswith("exercise_")
        # right after the parameters cell, so it wins over the defaults
        tags = [c["metadata"].get("tags", []) for c in cells if c["cell_type"] == "code"]
        assert "parameters" in tags[0] and "injected-parameters" in tags[1]


def test_prepare_rejects_an_unknown_persona_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"scenario='hospital_note' is invalid.*hospital_notes"):
        workshop.prepare("hospital_note", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_prepare_keeps_the_answers_out_of_the_served_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"answers_dir=.* is invalid: must be a folder outside"):
        workshop.prepare("bank_support", tmp_path / "out", answers_dir=tmp_path / "out" / "a")
    assert not (tmp_path / "out").exists()


def test_prepare_rejects_a_bad_override(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="horizon_month"):
        workshop.prepare("bank_support", tmp_path, overrides={"horizon_month": 24})


def test_prepare_resolves_a_scenario_file_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               repo_root: Path) -> None:
    monkeypatch.chdir(repo_root)
    rel = "data/scenarios/retail_search.yaml"
    written = workshop.prepare(rel, tmp_path / "out")
    src = "".join(next(c for c in _cells(written[0])
                       if "injected-parameters" in c["metadata"].get("tags", []))["source"])
    assert str(repo_root / rel) in src  # absolute: Voila runs the kernel in the out folder


def test_persona_from_query() -> None:
    assert workshop.persona_from_query("persona=retail_search") == "retail_search"
    assert workshop.persona_from_query("a=1&persona=x&persona=bank_support") == "bank_support"
    assert workshop.persona_from_query("") is None
    assert workshop.persona_from_query("other=1") is None


def test_load_scenario_lets_the_page_url_choose_the_persona(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUERY_STRING", "persona=retail_search")
    got = workshop.load_scenario("bank_support", {"horizon_months": 24})
    want = scenarios.load("retail_search", horizon_months=24)
    assert got.to_dict() == want.to_dict()
    monkeypatch.setenv("QUERY_STRING", "")
    assert workshop.load_scenario("bank_support").to_dict() == scenarios.load(
        "bank_support").to_dict()


def test_cli_prepares_and_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    assert cli.main(["workshop", "--persona", "retail_search", "--out", str(tmp_path / "w"),
                     "--set", "monthly_tokens=5e9", "--answers-dir", str(tmp_path / "a")]) == 0
    assert "prepared" in capsys.readouterr().out
    form = tmp_path / "w" / "exercise_01_bottleneck_audit.ipynb"
    assert str(tmp_path / "a") in form.read_text()
    assert cli.main(["workshop", "--persona", "nobody", "--out", str(tmp_path)]) == 2
    assert "scenario='nobody' is invalid" in capsys.readouterr().err
    assert cli.main(["workshop", "--set", "no_equals_sign", "--out", str(tmp_path)]) == 2
    assert "--set='no_equals_sign' is invalid" in capsys.readouterr().err


def test_a_bad_page_persona_shows_the_library_message_and_keeps_the_rooms(
        monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[dict] = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, raw=False: shown.append(obj))
    monkeypatch.setenv("QUERY_STRING", "persona=<b>bogus</b>")
    got = workshop.load_scenario("hospital_notes")
    assert got.to_dict() == scenarios.load("hospital_notes").to_dict()
    (bundle,) = shown
    assert "scenario='<b>bogus</b>' is invalid: must be a persona name" in bundle["text/plain"]
    assert "Showing hospital_notes instead" in bundle["text/plain"]
    assert "<b>bogus</b>" not in bundle["text/html"]  # the address is escaped
    assert "&lt;b&gt;bogus&lt;/b&gt;" in bundle["text/html"]
    monkeypatch.setenv("QUERY_STRING", "")
    with pytest.raises(ValueError, match="overrides=5 is invalid"):
        workshop.load_scenario("hospital_notes", 5)  # the notebook's own bad value raises


def test_out_pointing_at_a_file_is_a_clear_error(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "taken.txt"
    target.write_text("x")
    assert cli.main(["workshop", "--out", str(target)]) == 2
    assert "must be a folder for the dashboards (this path is a file)" in capsys.readouterr().err

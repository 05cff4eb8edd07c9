"""Tests of the scenario schema, the personas and docs/scenarios.md."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml

from buildbuy import paths, scenarios
from buildbuy.scenarios import FIELDS, ScenarioError, from_dict, load

PERSONAS = ("bank_support", "hospital_notes", "retail_search")
REQUIRED = ("monthly_tokens", "output_token_share", "annual_growth", "api_model",
            "self_host_model", "gpu", "hosting", "horizon_months", "discount_rate")


def test_persona_names_are_the_fixed_three() -> None:
    assert set(PERSONAS) <= set(scenarios.persona_names())


def test_required_fields_exist_and_defaults_validate() -> None:
    for name in REQUIRED:
        assert name in FIELDS
    for role in scenarios.ROLES:
        for suffix in ("usd_per_year", "fte_a", "fte_b"):
            assert f"{role}_{suffix}" in FIELDS
    S = from_dict({})
    assert S.horizon_months == 36
    assert S.hosting in scenarios.HOSTING_MODES


@pytest.mark.parametrize("name", PERSONAS)
def test_persona_loads_and_every_non_default_value_has_a_source(name: str) -> None:
    path = paths.scenarios_dir() / f"{name}.yaml"
    raw = yaml.safe_load(path.read_text())
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(raw["as_of"]))
    S = load(name)
    assert S.name == name
    for field, spec in FIELDS.items():
        value = getattr(S, field)
        if spec.group == "persona":
            continue
        if value != spec.default:
            assert field in raw["sources"], (
                f"{name}: {field}={value!r} differs from the default but has no source")
        assert S.source(field), field


def test_every_field_has_doc_unit_source_and_a_check() -> None:
    for name, f in FIELDS.items():
        assert f.doc and f.source, name
        if f.type is not str:
            assert f.check is not None, f"{name} has no range check"
        elif f.group not in ("persona",) and name not in ("api_model", "self_host_model", "gpu",
                                                            "load_profile"):
            assert f.options, f"{name} is free text"


def test_csv_strings_are_coerced() -> None:
    S = from_dict({"monthly_tokens": "5e9", "horizon_months": "36", "hosting": " owned ",
                   "gpu_usd_per_hour": "", "discount_rate": "0.08"})
    assert S.monthly_tokens == 5e9 and isinstance(S.monthly_tokens, float)
    assert S.horizon_months == 36 and isinstance(S.horizon_months, int)
    assert S.hosting == "owned"
    assert S.gpu_usd_per_hour is None
    assert S.discount_rate == pytest.approx(0.08)
    assert from_dict({"horizon_months": "24.0"}).horizon_months == 24


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("monthly_tokens", -1.0, "> 0"),
    ("monthly_tokens", 0.0, "> 0"),
    ("monthly_tokens", 1e20, "<= 1e+15"),
    ("horizon_months", 1000, "<= 120"),
    ("discount_rate", 5.0, "<= 1"),
    ("tax_rate", 0.9, "<= 0.6"),
    ("quality_b_vs_a", 2.0, "<= 1.5"),
    ("value_usd_per_request", -0.1, ">= 0"),
    ("sector", "banks", "one of"),
    ("data_residency", "eu", "one of"),
    ("monthly_tokens", "lots", "a finite number"),
    ("output_token_share", 1.5, "<= 1"),
    ("output_token_share", -0.1, ">= 0"),
    ("cached_input_share", 2, "<= 1"),
    ("horizon_months", 0, ">= 1"),
    ("horizon_months", 12.5, "whole number"),
    ("discount_rate", -0.01, ">= 0"),
    ("hosting", "on_prem", "one of"),
    ("pue", 0.9, ">= 1"),
    ("annual_growth", float("nan"), "finite"),
    ("api_price_decline", 1.0, "<= 0.999"),
    ("monthly_tokens", True, "a finite number"),
])
def test_bad_values_name_field_value_and_allowed(field: str, value: object,
                                                 allowed: str) -> None:
    with pytest.raises(ScenarioError) as info:
        from_dict({field: value})
    err = info.value
    assert isinstance(err, ValueError)
    assert err.field == field
    msg = str(err)
    assert msg.startswith(f"{field}=")
    assert repr(value) in msg or str(value) in msg
    assert allowed in msg


def test_unknown_key_suggests_closest_field() -> None:
    with pytest.raises(ScenarioError, match="did you mean 'horizon_months'"):
        from_dict({"horizon_month": 24})
    with pytest.raises(ScenarioError, match="did you mean 'monthly_tokens'"):
        load("bank_support", monthly_token=1e9)


def test_unknown_persona_suggests_name() -> None:
    with pytest.raises(ScenarioError, match="bank_support"):
        load("bank_suport")


def test_go_live_must_be_inside_horizon() -> None:
    with pytest.raises(ScenarioError, match="months_to_production"):
        from_dict({"horizon_months": 6, "months_to_production": 6})


def test_overrides_replace_and_source() -> None:
    S = load("bank_support", monthly_tokens=5e9)
    assert S.monthly_tokens == 5e9
    assert S.source("monthly_tokens") == "override"
    assert S.source("pue") == FIELDS["pue"].source
    T = S.replace(hosting="cloud_reserved")
    assert T.hosting == "cloud_reserved" and S.hosting == "owned"
    assert T.source("hosting") == "override"
    with pytest.raises(ScenarioError):
        S.replace(pue=0.5)
    with pytest.raises(AttributeError):
        S.pue = 2.0  # frozen


def test_round_trip_through_yaml_and_json(tmp_path) -> None:
    S = load("retail_search")
    d = S.to_dict()
    assert list(d) == list(FIELDS)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    (tmp_path / "s.json").write_text(json.dumps(d))
    assert load(tmp_path / "s.yaml") == S
    assert load(str(tmp_path / "s.json")) == S
    assert load(d) == S


def test_names_are_checked_against_data_tables() -> None:
    data = pytest.importorskip("buildbuy.data")
    if not hasattr(data, "gpu_names"):
        pytest.skip("buildbuy.data.gpu_names not built yet")
    with pytest.raises(ScenarioError, match="gpu="):
        from_dict({"gpu": "H1000"})
    with pytest.raises(ScenarioError, match="self_host_model="):
        from_dict({"self_host_model": "no-such-model"})
    with pytest.raises(ScenarioError, match="api_model="):
        from_dict({"api_model": "no-such-api"})


def test_docs_table_matches_fields() -> None:
    doc = (paths.REPO_ROOT / "docs" / "scenarios.md").read_text()
    start = doc.index("<!-- FIELDS:BEGIN -->\n") + len("<!-- FIELDS:BEGIN -->\n")
    end = doc.index("<!-- FIELDS:END -->")
    assert doc[start:end] == scenarios.schema_markdown(), (
        "docs/scenarios.md is stale: run buildbuy.scenarios.write_schema_doc()")
    for name in FIELDS:
        assert f"| `{name}` |" in doc


def test_empty_cells_from_pandas() -> None:
    S = from_dict({"gpu_usd_per_hour": float("nan")})
    assert S.gpu_usd_per_hour is None
    with pytest.raises(ScenarioError, match=r"monthly_tokens=nan .*empty"):
        from_dict({"monthly_tokens": float("nan")})
    with pytest.raises(ScenarioError, match=r"monthly_tokens='' .*empty"):
        from_dict({"monthly_tokens": ""})


def test_gpu_rent_is_not_silently_ignored_for_owned_hardware() -> None:
    with pytest.raises(ScenarioError, match=r"gpu_usd_per_hour=2.5 .*owned"):
        from_dict({"hosting": "owned", "gpu_usd_per_hour": 2.5})
    assert from_dict({"hosting": "cloud_reserved", "gpu_usd_per_hour": 2.5}).gpu_usd_per_hour \
        == 2.5


def test_cloud_hosting_needs_a_gpu_price() -> None:
    with pytest.raises(ScenarioError, match=r"hosting='cloud_reserved' .*A100-40GB"):
        from_dict({"gpu": "A100-40GB", "hosting": "cloud_reserved"})
    S = from_dict({"gpu": "A100-40GB", "hosting": "cloud_reserved", "gpu_usd_per_hour": 1.5})
    assert S.gpu_usd_per_hour == 1.5


def test_every_numeric_field_has_a_plausible_range_with_a_reason() -> None:
    """Issue 16: each number is bounded below and above, and says why."""
    for name, f in scenarios.FIELDS.items():
        if f.type is str:
            continue
        assert f.check is not None, name
        assert not f.check(1e300) and not f.check(-1e300), f"{name} has no upper/lower bound"
        assert f.why, f"{name} gives no reason for its range"
        assert f.default is None or f.check(f.default), name


def test_every_operations_field_is_in_the_schema_with_a_reason() -> None:
    """Issue 16 item 1 for the operations fields of issue 12: each is a schema field (so the
    range test above covers it), and each number says why its range ends where it does."""
    from buildbuy.ops_fields import OPS_FIELDS

    for name, spec in OPS_FIELDS.items():
        f = scenarios.FIELDS[name]
        if f.type is str:
            assert f.options or name == "load_profile", name
            continue
        assert spec["range"][0] is not None and spec["range"][1] is not None, name
        assert f.why == spec["why"] and len(f.why) > 20, name


@pytest.mark.parametrize("value", [0, 0.0, "0"])
def test_zero_volume_is_refused_at_load_naming_the_field(value: object) -> None:
    with pytest.raises(ScenarioError, match=r"monthly_tokens=.* is invalid: must be a finite "
                                            r"number > 0"):
        scenarios.load("bank_support", monthly_tokens=value)


def test_a_zero_volume_roster_row_is_marked_invalid(tmp_path) -> None:
    from buildbuy.reports.roster import read_roster

    path = tmp_path / "roster.csv"
    path.write_text("learner_id,learner_name,scenario,monthly_tokens\n"
                    "a,Ann,bank_support,0\nb,Bob,bank_support,5e9\n")
    rows = read_roster(path)
    assert not rows[0].valid and "monthly_tokens" in rows[0].reason
    assert rows[1].valid


def test_from_parameters_says_what_overrides_must_be() -> None:
    for bad_value in (5, "5", [1, 2], "not: [valid"):
        with pytest.raises(ScenarioError, match=r"overrides=.* is invalid: must be a dict of "
                                                r"scenario fields.*papermill: -y"):
            scenarios.from_parameters("bank_support", bad_value)
    assert scenarios.from_parameters("bank_support", None) == scenarios.load("bank_support")
    assert scenarios.from_parameters("bank_support", '{"horizon_months": 24}').horizon_months == 24
    with pytest.raises(ScenarioError, match=r"scenario=\{\} is invalid: must be a persona"):
        scenarios.from_parameters({}, {})


@pytest.mark.parametrize("overrides,message", [
    ({"redundancy": "n_plus_2"}, "redundancy='n_plus_2' is invalid: must be one of 'none', "
                                 "'n_plus_1', 'two_sites'; did you mean 'n_plus_1'?"),
    ({"on_call_coverage": "24/7"}, "on_call_coverage='24/7' is invalid: must be one of "
                                   "'none', 'business_hours', '24x7'; did you mean '24x7'?"),
    ("{target_utilisation: 1.5}", "target_utilisation=1.5 is invalid: must be a finite number "
                                  "> 0 and <= 1"),
    ('{"api_refresh_months": 2.5}', "api_refresh_months=2.5 is invalid: must be a whole "
                                    "number >= 0"),
    ({"load_profile": "weekday"}, "load_profile='weekday' is invalid: must be one of "
                                  "'online_retail_daypart' (the profiles in "
                                  "data/load_profiles.csv)"),
    ({"peak_to_average": 9}, "peak_to_average=9.0 is invalid: must be < 8 for "
                             "load_profile='online_retail_daypart'"),
    ({"colo_wholesale_min_kw": "lots"}, "colo_wholesale_min_kw='lots' is invalid: must be a "
                                        "finite number >= 0"),
])
def test_from_parameters_names_field_value_and_allowed_for_operations_fields(
        overrides: object, message: str) -> None:
    """The papermill entry point refuses bad operations fields (issue 12) the same way:
    one line naming the field, the value and what is allowed."""
    with pytest.raises(ScenarioError) as info:
        scenarios.from_parameters("bank_support", overrides)
    assert str(info.value).startswith(message)


def test_from_parameters_takes_operations_fields_as_text() -> None:
    S = scenarios.from_parameters(
        "hospital_notes", "{redundancy: two_sites, on_call_coverage: 24x7, "
        "target_utilisation: 0.6, api_refresh_months: 12, downtime_usd_per_hour: 1e5}")
    assert (S.redundancy, S.on_call_coverage, S.target_utilisation, S.api_refresh_months,
            S.downtime_usd_per_hour) == ("two_sites", "24x7", 0.6, 12, 100000.0)
    assert S.source("redundancy") == "override"


def test_a_broken_scenario_file_names_itself_and_the_line(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "mine.yaml"
    bad_yaml.write_text("monthly_tokens: 5e9\ngpu: [H100\n")
    with pytest.raises(ScenarioError, match=rf"scenario='{re.escape(str(bad_yaml))}' is invalid: "
                                            r"must be a valid YAML file \(line 3, column 1"):
        scenarios.load(bad_yaml)
    bad_json = tmp_path / "mine.json"
    bad_json.write_text('{"monthly_tokens": }')
    with pytest.raises(ScenarioError, match=r"mine.json' is invalid: must be a valid JSON file "
                                            r"\(line 1, column 20"):
        scenarios.load(bad_json)


def test_names_follow_one_case_rule_everywhere() -> None:
    from buildbuy import data, tps

    S = scenarios.load("bank_support", gpu="h200", self_host_model="QWEN2.5-32B",
                       api_model="GPT-4O-MINI")
    assert (S.gpu, S.self_host_model, S.api_model) == ("H200", "qwen2.5-32b", "gpt-4o-mini")
    assert tps.decode("llama-3.1-8b", "h100-sxm", batch=1, context=128).tokens_per_s > 0
    assert data.get_gpu("h200") is data.get_gpu("H200")
    with pytest.raises(ScenarioError, match=r"gpu='h100' is invalid.*did you mean"):
        scenarios.load("bank_support", gpu="h100")
    with pytest.raises(ValueError, match=r"gpu='h100' is invalid"):
        data.get_gpu("h100")


def test_the_case_rule_covers_the_operations_tables() -> None:
    """Load profiles, rate-limit tiers and provisioned offers (issue 12's tables) follow
    the same rule: any case is accepted and the canonical spelling stored and used."""
    from buildbuy import api_limits, load_profile

    S = scenarios.load("bank_support", load_profile="Online_Retail_Daypart",
                       api_model="Claude-Sonnet-4-5")
    assert (S.load_profile, S.api_model) == ("online_retail_daypart", "claude-sonnet-4-5")
    same = scenarios.load("bank_support", load_profile="online_retail_daypart",
                          api_model="claude-sonnet-4-5")
    assert same == S
    assert (load_profile.scaled("ONLINE_RETAIL_DAYPART", 2.5)
            == load_profile.scaled("online_retail_daypart", 2.5)).all()
    qc = api_limits.quota_context(S)
    assert [t.name for t in qc.tiers] == ["tier_1", "tier_2", "tier_3", "tier_4"]
    assert qc.offer is not None and qc.offer.min_units == 25
    upper = dataclasses.replace(S, api_model="CLAUDE-SONNET-4-5")   # bypasses validation
    assert api_limits.quota_context(upper) == qc
    with pytest.raises(ValueError, match=r"load_profile='weekday' is invalid"):
        load_profile.scaled("weekday", 2.0)

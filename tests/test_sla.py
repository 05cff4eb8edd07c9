"""Tests for buildbuy.sla: hand-computed credits, scipy cross-checks, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from buildbuy import sla

BEDROCK = sla.AWS_BEDROCK


def test_published_bedrock_schedule() -> None:
    assert BEDROCK.tiers == ((0.999, 0.10), (0.99, 0.25), (0.95, 1.00))
    assert BEDROCK.slo == 0.999
    assert "aws.amazon.com/bedrock/sla" in BEDROCK.source and BEDROCK.as_of == "2023-10-04"
    assert sla.VERTEX_GEMINI.slo == 0.995


def test_credit_share_tier_edges_are_strict() -> None:
    # "less than 99.9% but >= 99.0%" -> 10%; exactly on a threshold earns the upper tier
    cases = {1.0: 0.0, 0.999: 0.0, 0.99899: 0.10, 0.99: 0.10, 0.98999: 0.25, 0.95: 0.25,
             0.9499: 1.0, 0.0: 1.0}
    for a, want in cases.items():
        assert sla.credit_share(BEDROCK, a) == want, a
    got = sla.credit_share(BEDROCK, np.array(list(cases)))
    np.testing.assert_array_equal(got, list(cases.values()))


def test_expected_credit_empirical_hand_computed() -> None:
    months = [1.0, 0.9995, 0.998, 0.985, 0.94]  # credits 0, 0, 0.10, 0.25, 1.00
    assert sla.expected_credit_share(BEDROCK, months) == pytest.approx(1.35 / 5)
    assert sla.breach_probability(BEDROCK, months) == pytest.approx(3 / 5)
    # downtime: mean availability 0.98450 -> 1.55 % of 730 h
    assert sla.expected_downtime_hours(months) == pytest.approx((1 - 0.9845) * 730)


def test_expected_credit_beta_matches_quadrature_and_cdf_formula() -> None:
    dist = sla.beta_availability(0.998, 0.002)
    got = sla.expected_credit_share(BEDROCK, dist)
    # by hand from the CDF: 0.10 P(.99<=A<.999) + 0.25 P(.95<=A<.99) + 1.00 P(A<.95)
    f = dist.cdf
    by_hand = 0.10 * (f(0.999) - f(0.99)) + 0.25 * (f(0.99) - f(0.95)) + 1.0 * f(0.95)
    assert got == pytest.approx(by_hand, rel=1e-12)
    # and by numerical integration of credit x density, piece by piece
    pieces = [(0.0, 0.95, 1.0), (0.95, 0.99, 0.25), (0.99, 0.999, 0.10)]
    quad = sum(c * integrate.quad(dist.pdf, lo, hi, epsabs=1e-13)[0] for lo, hi, c in pieces)
    assert got == pytest.approx(quad, rel=1e-6)
    assert got > 0


def test_expected_credit_beta_matches_seeded_monte_carlo() -> None:
    dist = sla.beta_availability(0.998, 0.002)
    draws = dist.rvs(size=200_000, random_state=np.random.default_rng(0))
    credits = sla.credit_share(BEDROCK, draws)
    se = credits.std() / math.sqrt(draws.size)
    assert sla.expected_credit_share(BEDROCK, dist) == pytest.approx(credits.mean(), abs=4 * se)
    assert sla.expected_credit_share(BEDROCK, draws) == pytest.approx(credits.mean(), rel=1e-12)


def test_beta_availability_moments() -> None:
    d = sla.beta_availability(0.9990, 0.0005)
    assert d.mean() == pytest.approx(0.9990, rel=1e-12)
    assert d.std() == pytest.approx(0.0005, rel=1e-9)
    # method of moments: k = m(1-m)/sd^2 - 1 = 0.999*0.001/2.5e-7 - 1 = 3995
    a, b = d.args
    assert a == pytest.approx(0.999 * 3995) and b == pytest.approx(0.001 * 3995)


def test_better_availability_never_raises_the_expected_credit() -> None:
    means = [0.990, 0.995, 0.998, 0.999, 0.9995]
    values = [sla.expected_credit_share(BEDROCK, sla.beta_availability(m, 0.001))
              for m in means]
    assert np.all(np.diff(values) <= 0)


def test_evaluate_hand_computed() -> None:
    o = sla.evaluate([0.998], usd_per_downtime_hour=5_000, schedule=BEDROCK,
                     monthly_bill_usd=20_000, name="API")
    assert o.downtime_hours == pytest.approx(0.002 * 730)
    assert o.downtime_cost_usd == pytest.approx(7_300)
    assert o.credit_usd == pytest.approx(2_000)
    assert o.uncovered_usd == pytest.approx(5_300)
    assert o.coverage == pytest.approx(2_000 / 7_300)
    assert o.breach_probability == 1.0
    # a flat credit of 36.5 % of the bill in a breached month would pay for the downtime
    assert o.credit_to_cover == pytest.approx(7_300 / 20_000)


def test_evaluate_half_the_months_breach() -> None:
    o = sla.evaluate([1.0, 0.996], usd_per_downtime_hour=1_000, schedule=BEDROCK,
                     monthly_bill_usd=10_000)
    # mean downtime (0 + 0.4 %) / 2 of 730 h = 1.46 h -> $1,460; credit 10% half the time
    assert o.downtime_cost_usd == pytest.approx(1_460)
    assert o.credit_usd == pytest.approx(500)
    assert o.credit_to_cover == pytest.approx(1_460 / (10_000 * 0.5))


def test_self_host_has_no_credit() -> None:
    o = sla.evaluate(sla.beta_availability(0.995, 0.003), usd_per_downtime_hour=2_000)
    assert o.credit_usd == 0 and o.uncovered_usd == o.downtime_cost_usd
    assert o.downtime_cost_usd == pytest.approx(0.005 * 730 * 2_000)
    assert math.isnan(o.credit_to_cover)


def test_compare_table() -> None:
    api = sla.evaluate([0.998], usd_per_downtime_hour=5_000, schedule=BEDROCK,
                       monthly_bill_usd=20_000, name="API")
    own = sla.evaluate([0.995], usd_per_downtime_hour=5_000, name="self-host")
    t = sla.compare([api, own])
    assert list(t.index) == ["API", "self-host"]
    assert t.loc["self-host", "downtime_cost_usd"] == pytest.approx(18_250)
    assert t.loc["API", "credit_usd"] == pytest.approx(2_000)


def test_latency_slo_uses_the_same_machinery() -> None:
    latency = stats.lognorm(s=0.5, scale=800.0)  # median 800 ms
    share = sla.latency_attainment(latency, 2_000)
    assert share == pytest.approx(latency.cdf(2_000))
    assert sla.latency_attainment([100, 200, 300, 400], 300) == 0.75
    # attainment months fed to a schedule like availability
    assert sla.expected_credit_share(sla.VERTEX_GEMINI, [0.999, 0.992, 0.97]) == pytest.approx(
        (0.0 + 0.10 + 0.25) / 3)


@pytest.mark.parametrize("call, start", [
    (lambda: sla.expected_credit_share(BEDROCK, [0.99, 1.2]), "availability=1.2"),
    (lambda: sla.expected_credit_share(BEDROCK, []), "availability="),
    (lambda: sla.expected_credit_share(BEDROCK, stats.norm(0.99, 0.01)), "availability="),
    (lambda: sla.beta_availability(1.0, 0.01), "mean=1.0"),
    (lambda: sla.beta_availability(0.99, 0.5), "sd=0.5"),
    (lambda: sla.beta_availability(0.99, 0), "sd=0"),
    (lambda: sla.evaluate([0.99], usd_per_downtime_hour=-1), "usd_per_downtime_hour=-1"),
    (lambda: sla.evaluate([0.99], usd_per_downtime_hour=1, monthly_bill_usd=-5),
     "monthly_bill_usd=-5"),
    (lambda: sla.evaluate([0.99], usd_per_downtime_hour=1, hours_per_month=0),
     "hours_per_month=0"),
    (lambda: sla.evaluate([0.99], usd_per_downtime_hour=1, schedule="bedrock"), "schedule="),
    (lambda: sla.CreditSchedule("x", ((0.99, 0.1), (0.999, 0.2)), "s", "2026"), "tiers="),
    (lambda: sla.CreditSchedule("x", ((0.999, 0.3), (0.99, 0.2)), "s", "2026"), "tiers="),
    (lambda: sla.CreditSchedule("x", (), "s", "2026"), "tiers="),
    (lambda: sla.latency_attainment([100], 0), "target_ms=0"),
    (lambda: sla.credit_share(BEDROCK, sla.beta_availability(0.99, 0.01)),
     "availability_share="),
    (lambda: sla.compare([]), "outcomes="),
])
def test_bad_input_names_the_argument(call, start: str) -> None:
    with pytest.raises(ValueError, match="is invalid: must be") as info:
        call()
    assert str(info.value).startswith(start)



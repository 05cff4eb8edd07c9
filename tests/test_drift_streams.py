"""Drifting streams and model quality over time (buildbuy.drift.streams / quality)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from buildbuy.drift import (
    accuracy,
    accuracy_over_time,
    blind_spot,
    cbpe_accuracy,
    drift_weights,
    make_stream,
    model_proba,
)
from buildbuy.drift.streams import sigmoid


def test_drift_weights_by_hand() -> None:
    t = np.arange(8)
    assert drift_weights(t, "sudden", 3).tolist() == [0, 0, 0, 1, 1, 1, 1, 1]
    assert drift_weights(t, "incremental", 2, width=4).tolist() == [
        0, 0, 0.25, 0.5, 0.75, 1, 1, 1]
    assert drift_weights(t, "recurring", 1, width=2, period=4).tolist() == [
        0, 1, 1, 0, 0, 1, 1, 0]
    assert drift_weights(t, "none", 0).tolist() == [0] * 8
    g = drift_weights(np.array([2.0, 7.0, 12.0]), "gradual", 2, width=10)
    assert g.tolist() == pytest.approx([1 / (1 + np.exp(2)), 0.5, 1 / (1 + np.exp(-2))])


def test_same_seed_same_stream_and_different_seed_differs() -> None:
    kw = dict(kind="concept", shape="gradual", t0=500, width=200, runs=3)
    a = make_stream(1000, seed=4, **kw)
    b = make_stream(1000, seed=4, **kw)
    c = make_stream(1000, seed=5, **kw)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


def test_covariate_drift_moves_x_and_keeps_p_y_given_x() -> None:
    s = make_stream(20_000, kind="covariate", shape="sudden", t0=10_000, magnitude=1.0)
    x1 = s.x[0, :, 0]
    assert x1[:10_000].mean() == pytest.approx(0.0, abs=0.03)
    assert x1[10_000:].mean() == pytest.approx(1.0, abs=0.03)
    np.testing.assert_allclose(s.p_true[0], sigmoid(2.0 * x1))


def test_concept_drift_keeps_p_x_and_turns_p_y_given_x() -> None:
    s = make_stream(20_000, kind="concept", shape="sudden", t0=10_000, magnitude=np.pi / 2)
    _, p = stats.ks_2samp(s.x[0, :10_000, 0], s.x[0, 10_000:, 0])
    assert p > 0.01                      # P(x) unchanged
    np.testing.assert_allclose(s.p_true[0, 10_000:], sigmoid(2.0 * s.x[0, 10_000:, 1]))


def test_prior_drift_moves_p_y() -> None:
    s = make_stream(40_000, kind="prior", shape="sudden", t0=20_000, magnitude=1.0)
    assert s.y[0, :20_000].mean() == pytest.approx(0.5, abs=0.01)
    assert s.y[0, 20_000:].mean() == pytest.approx(sigmoid(1.0), abs=0.01)


def test_gradual_mixes_concepts_in_proportion_w() -> None:
    s = make_stream(4000, kind="concept", shape="gradual", t0=1000, width=1000, runs=200)
    share_new = (s.shift > 0).mean(axis=0)
    assert np.abs(share_new - s.w).max() < 0.12      # 200 Bernoulli draws per row
    assert np.abs(share_new[1500] - 0.5) < 0.12


def test_accuracy_and_cbpe_by_hand() -> None:
    assert accuracy([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.5]) == 0.5
    assert cbpe_accuracy([0.9, 0.2, 0.4, 0.5]) == pytest.approx((0.9 + 0.8 + 0.6 + 0.5) / 4)


def test_cbpe_equals_bayes_accuracy_without_drift() -> None:
    # E[max(p, 1-p)] for p = sigmoid(2 x1), x1 ~ N(0,1): the Bayes accuracy, by quadrature
    want, _ = integrate.quad(lambda x: sigmoid(2 * abs(x)) * stats.norm.pdf(x), -10, 10)
    s = make_stream(200_000, kind="covariate", shape="none", t0=0)
    p = model_proba(s.x, kind="covariate", trained_shift=0.0)
    assert cbpe_accuracy(p) == pytest.approx(want, abs=0.002)
    assert accuracy(s.y, p) == pytest.approx(want, abs=0.004)


def test_blind_spot_tracks_covariate_and_misses_concept() -> None:
    t = blind_spot().set_index("kind")
    assert abs(t.loc["covariate", "gap_after"]) < 0.01
    assert t.loc["covariate", "true_after"] - t.loc["covariate", "true_before"] > 0.03
    assert t.loc["concept", "gap_after"] > 0.1
    assert t.loc["concept", "cbpe_after"] == pytest.approx(t.loc["concept", "cbpe_before"])
    # the figures quoted in the docstring and docs/drift.md
    assert t.loc["concept", "true_after"] == pytest.approx(0.632, abs=0.001)
    assert t.loc["covariate", "true_after"] == pytest.approx(0.843, abs=0.001)


def test_retraining_recovers_accuracy_after_concept_drift() -> None:
    s = make_stream(8000, kind="concept", shape="sudden", t0=2000, runs=20, seed=0)
    t = accuracy_over_time(s, window=1000, retrain_every=1000)
    before = t.accuracy_frozen.iloc[:2].mean()
    assert t.accuracy_frozen.iloc[-1] < before - 0.1
    assert t.accuracy_retrained.iloc[-1] == pytest.approx(before, abs=0.02)
    assert (t.cbpe_frozen.max() - t.cbpe_frozen.min()) < 0.01     # blind to it


@pytest.mark.parametrize("call,name", [
    (lambda: drift_weights(np.arange(3), "wobbly", 0), "shape"),
    (lambda: drift_weights(np.arange(3), "gradual", 0, width=0), "width"),
    (lambda: drift_weights(np.arange(3), "recurring", 0, width=3, period=2), "period"),
    (lambda: make_stream(0, kind="concept", shape="sudden", t0=0), "n"),
    (lambda: make_stream(10, kind="label", shape="sudden", t0=0), "kind"),
    (lambda: make_stream(10, kind="concept", shape="sudden", t0=0, magnitude=np.nan),
     "magnitude"),
    (lambda: accuracy([1, 0], [0.5]), "proba"),
    (lambda: accuracy([1, 2], [0.5, 0.5]), "y"),
    (lambda: accuracy([], []), "proba"),
    (lambda: cbpe_accuracy([1.2]), "proba"),
    (lambda: model_proba(np.ones(3), kind="concept", trained_shift=0.0), "x"),
])
def test_bad_input_names_the_argument(call, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name}=.* is invalid: must be"):
        call()

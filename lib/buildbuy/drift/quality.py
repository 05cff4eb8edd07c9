"""Model quality over time, and the label-free blind spot.

The model is the Bayes-optimal classifier for the concept it was trained on,
in closed form: ``p_hat = sigmoid(slope * x1)`` before drift. So its
probabilities are perfectly calibrated until the world moves, which is the
best case for label-free estimation. "Retraining" refits it exactly to the
concept at the retraining time (no estimation error): a simplification that
isolates the effect of drift from that of finite training data.

Label-free performance estimation in the style of NannyML's CBPE estimates
accuracy from the model's own confidence (NannyML ``metrics.py::estimate_accuracy``)::

    est_accuracy = mean( [y_hat = 1] * p_hat + [y_hat = 0] * (1 - p_hat) )
                 = mean( max(p_hat, 1 - p_hat) )

It needs no labels, and it is right as long as ``p_hat`` stays calibrated:
under covariate shift P(y|x) is unchanged, so it tracks accuracy. Under concept
drift P(y|x) changes and the model cannot know: the estimate does not move
(NannyML docs, "CBPE will not work under concept drift").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from buildbuy import _validate as v
from buildbuy.drift.assumptions import KINDS
from buildbuy.drift.streams import Stream, make_stream, sigmoid

__all__ = ["accuracy", "accuracy_over_time", "blind_spot", "cbpe_accuracy", "model_proba"]


def model_proba(x: np.ndarray, *, kind: str, trained_shift: float | np.ndarray,
                slope: float = 2.0) -> np.ndarray:
    """``P(y=1|x)`` predicted by the model fitted to concept ``trained_shift``.

    ``x`` has shape (..., 2); ``trained_shift = 0`` is the original model. For
    covariate drift the best model does not change with the shift; for concept
    drift it is ``sigmoid(slope (cos(s) x1 + sin(s) x2))``; for prior drift
    ``sigmoid(slope x1 + s)`` (see :func:`buildbuy.drift.streams.make_stream`).

    Examples
    --------
    >>> float(model_proba(np.array([1.0, 0.0]), kind="concept", trained_shift=np.pi / 2))
    0.5
    """
    x = np.asarray(x, dtype=float)
    if x.shape[-1:] != (2,):
        raise v.bad("x", f"<array of shape {x.shape}>", "an array of shape (..., 2)")
    s = np.asarray(trained_shift, dtype=float)
    if kind == "covariate":
        return sigmoid(slope * x[..., 0])
    if kind == "concept":
        return sigmoid(slope * (np.cos(s) * x[..., 0] + np.sin(s) * x[..., 1]))
    if kind == "prior":
        return sigmoid(slope * x[..., 0] + s)
    raise v.bad("kind", kind, "one of " + ", ".join(repr(k) for k in KINDS))


def _y_proba(y: object, proba: object) -> tuple[np.ndarray, np.ndarray]:
    p = v.finite_array("proba", proba)
    yy = v.finite_array("y", y)
    if yy.shape != p.shape:
        raise v.bad("proba", f"<array of shape {p.shape}>",
                    f"an array of the same shape as y {yy.shape}")
    if np.any((p < 0) | (p > 1)):
        raise v.bad("proba", "<array with values outside [0, 1]>", "probabilities in [0, 1]")
    if not np.all((yy == 0) | (yy == 1)):
        raise v.bad("y", "<array with values other than 0 and 1>", "labels 0 and 1")
    return yy, p


def accuracy(y: object, proba: object, *, axis: int | None = None) -> float | np.ndarray:
    """Share of correct predictions, predicting 1 when ``proba >= 0.5``.

    Examples
    --------
    >>> accuracy([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.5])
    0.5
    """
    yy, p = _y_proba(y, proba)
    out = np.mean((p >= 0.5) == (yy == 1), axis=axis)
    return float(out) if axis is None else out


def cbpe_accuracy(proba: object, *, axis: int | None = None) -> float | np.ndarray:
    """Label-free (CBPE-style) accuracy estimate: ``mean(max(p, 1 - p))``.

    Examples
    --------
    >>> round(cbpe_accuracy([0.9, 0.2, 0.4, 0.5]), 12)   # (0.9 + 0.8 + 0.6 + 0.5) / 4
    0.7
    """
    p = v.finite_array("proba", proba)
    if np.any((p < 0) | (p > 1)):
        raise v.bad("proba", "<array with values outside [0, 1]>", "probabilities in [0, 1]")
    out = np.mean(np.maximum(p, 1.0 - p), axis=axis)
    return float(out) if axis is None else out


def accuracy_over_time(stream: Stream, *, window: int,
                       retrain_every: int | None = None) -> pd.DataFrame:
    """Accuracy per window of a frozen model and of a periodically refitted one.

    Parameters
    ----------
    stream : from :func:`buildbuy.drift.streams.make_stream`.
    window : rows per window (``>= 1``); a last partial window is dropped.
    retrain_every : refit the second model every this many rows, to the mean
        concept of the window just finished (labels up to then). ``None`` = only
        the frozen model's columns.

    Returns
    -------
    pandas.DataFrame, one row per window: ``start`` (first row), ``drift_weight``
    (mean w), ``accuracy_frozen``, ``cbpe_frozen`` (label-free estimate for the
    frozen model), and if ``retrain_every`` is set ``accuracy_retrained``. Values
    are means over the stream's runs.

    Examples
    --------
    >>> s = make_stream(4000, kind="concept", shape="sudden", t0=2000, runs=4, seed=0)
    >>> t = accuracy_over_time(s, window=1000)
    >>> bool(t.accuracy_frozen.iloc[3] < t.accuracy_frozen.iloc[0] - 0.1)
    True
    """
    window = v.integer("window", window, minimum=1)
    runs, n = stream.y.shape
    k = n // window
    if k == 0:
        raise v.bad("window", window, f"a whole number from 1 to the stream length {n}")
    sl = slice(0, k * window)
    p0 = model_proba(stream.x, kind=stream.kind, trained_shift=0.0, slope=stream.slope)
    correct = ((p0 >= 0.5) == (stream.y == 1))[:, sl].reshape(runs, k, window)
    conf = np.maximum(p0, 1.0 - p0)[:, sl].reshape(runs, k, window)
    out = {
        "start": np.arange(k) * window,
        "drift_weight": stream.w[sl].reshape(k, window).mean(axis=1),
        "accuracy_frozen": correct.mean(axis=(0, 2)),
        "cbpe_frozen": conf.mean(axis=(0, 2)),
    }
    if retrain_every is not None:
        retrain_every = v.integer("retrain_every", retrain_every, minimum=1)
        rows = np.arange(n)
        last_fit = (rows // retrain_every) * retrain_every        # row where the model was refit
        trained = np.zeros((runs, n))
        for start in np.unique(last_fit[last_fit > 0]):
            lo = max(0, start - retrain_every)
            trained[:, last_fit == start] = stream.shift[:, lo:start].mean(axis=1, keepdims=True)
        p1 = model_proba(stream.x, kind=stream.kind, trained_shift=trained, slope=stream.slope)
        ok = ((p1 >= 0.5) == (stream.y == 1))[:, sl].reshape(runs, k, window)
        out["accuracy_retrained"] = ok.mean(axis=(0, 2))
    return pd.DataFrame(out)


def blind_spot(*, n: int = 20_000, magnitude: float = 1.0, seed: int = 0) -> pd.DataFrame:
    """True accuracy vs the label-free (CBPE-style) estimate, before and after drift.

    For each kind of drift, two streams of ``n`` rows with the same seed: one
    without drift and one fully drifted (``shape="sudden"``, ``t0=0``, the given
    ``magnitude``), both scored by the original, calibrated model.
    ``gap_after = cbpe_after - true_after``: how far the estimate is off once
    the world has moved; ``missed_drop`` is the part of the true accuracy change
    the estimate did not show.

    Measured with the defaults (n = 20 000, magnitude 1, seed 0):

    ========= ===================== ===================== =========
    kind      before: true / CBPE   after: true / CBPE    gap_after
    ========= ===================== ===================== =========
    covariate 0.778 / 0.777         0.843 / 0.840         -0.003
    concept   0.778 / 0.777         0.632 / 0.777         +0.146
    ========= ===================== ===================== =========

    So the estimate follows covariate shift and misses concept drift entirely.

    Examples
    --------
    >>> t = blind_spot().set_index("kind")
    >>> bool(abs(t.loc["covariate", "gap_after"]) < 0.01)
    True
    >>> bool(t.loc["concept", "gap_after"] > 0.1)
    True
    """
    n = v.integer("n", n, minimum=100)
    magnitude = v.finite("magnitude", magnitude)
    rows = []
    changes = {"covariate": "P(x)", "prior": "P(y)", "concept": "P(y|x)"}
    for kind in ("covariate", "prior", "concept"):
        row: dict[str, object] = {"kind": kind, "what_changes": changes[kind]}
        for when, mag in (("before", 0.0), ("after", magnitude)):
            s = make_stream(n, kind=kind, shape="sudden", t0=0, magnitude=mag, seed=seed)
            p = model_proba(s.x, kind=kind, trained_shift=0.0, slope=s.slope)
            row[f"true_{when}"] = accuracy(s.y, p)
            row[f"cbpe_{when}"] = cbpe_accuracy(p)
        row["gap_after"] = row["cbpe_after"] - row["true_after"]
        row["missed_drop"] = ((row["true_before"] - row["true_after"])
                              - (row["cbpe_before"] - row["cbpe_after"]))
        rows.append(row)
    return pd.DataFrame(rows)

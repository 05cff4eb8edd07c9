"""Drifting data streams: what changes (kind) and how it changes over time (shape).

A drift is a move from an old *concept* to a new one. One weight ``w(t)`` in
[0, 1] says how far the move has gone at time ``t`` (Gama et al., "A survey on
concept drift adaptation", ACM CSUR 46(4), 2014):

* ``sudden``      ``w = 1[t >= t0]``: the concept switches at ``t0``.
* ``gradual``     ``w = 1 / (1 + exp(-4 (t - t0 - width/2) / width))``: old and new
  concepts alternate; the chance of the new one follows a sigmoid. river and MOA
  (``ConceptDriftStream``) centre the same sigmoid at ``position``; here ``t0``
  marks the start, so river's ``position = t0 + width/2``.
* ``incremental`` ``w = clip((t - t0 + 1) / width, 0, 1)``: the concept itself moves
  in small steps, reaching the new one ``width`` steps after ``t0``.
* ``recurring``   ``w = 1`` during an episode of ``width`` steps starting at ``t0``
  (repeated every ``period`` steps if given), else 0: the old concept comes back.

Sudden, gradual and recurring drift *mix* two concepts, so each row draws its
concept: new with probability ``w``. Incremental drift *interpolates* the concept
parameter: every row sees ``magnitude * w``.

The data are two features ``x = (x1, x2)`` and a binary label ``y`` with a
logistic truth. Before drift ``x ~ N(0, I)`` and ``P(y=1 | x) = sigmoid(slope * x1)``.
The three kinds move one thing each (Moreno-Torres et al. 2012):

* ``covariate`` P(x) moves: ``x1 ~ N(shift, 1)``; P(y|x) is fixed.
* ``concept``   P(y|x) moves: the decision direction turns by ``shift`` radians,
  ``P(y=1|x) = sigmoid(slope * (cos(shift) x1 + sin(shift) x2))``; P(x) is fixed.
  A refitted model is exactly as good as before (the data are isotropic), so
  any loss is the old model's, not the world's.
* ``prior``     P(y) moves: ``P(y=1) = sigmoid(shift)``; the class conditionals
  P(x|y) stay fixed, so P(x) and P(y|x) follow (see :func:`make_stream`).

``shift`` is ``magnitude`` on new-concept rows (``magnitude * w`` for incremental).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from buildbuy import _validate as v
from buildbuy.drift.assumptions import KINDS
from buildbuy.drift.assumptions import SHAPES as DRIFT_SHAPES

__all__ = ["SHAPES", "Stream", "drift_weights", "make_stream", "sigmoid"]

#: The drift shapes plus ``"none"`` (no drift), for streams without a change.
SHAPES: tuple[str, ...] = ("none", *DRIFT_SHAPES)


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-z))``, computed without overflow.

    Examples
    --------
    >>> float(sigmoid(0.0))
    0.5
    """
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def drift_weights(t: np.ndarray, shape: str, t0: float, width: int = 1, *,
                  period: int | None = None) -> np.ndarray:
    """How far a drift has gone at each time ``t``: a weight in [0, 1].

    Parameters
    ----------
    t : array of times (any unit: rows, days).
    shape : ``"none" | "sudden" | "gradual" | "incremental" | "recurring"``.
    t0 : start of the drift.
    width : length of the transition (gradual, incremental) or of one episode
        (recurring); ignored for sudden. ``>= 1``.
    period : recurring only: an episode starts every ``period`` steps
        (``>= width``). ``None`` = one episode.

    Returns
    -------
    numpy.ndarray of the same shape as ``t``.

    Examples
    --------
    >>> drift_weights(np.arange(6), "incremental", t0=2, width=2).tolist()
    [0.0, 0.0, 0.5, 1.0, 1.0, 1.0]
    >>> drift_weights(np.arange(6), "recurring", t0=1, width=2).tolist()
    [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    >>> round(float(drift_weights(np.array([7.0]), "gradual", t0=2, width=10)[0]), 4)
    0.5
    """
    shape = v.choice("shape", shape, SHAPES)
    t = np.asarray(t, dtype=float)
    t0 = v.finite("t0", t0)
    width = v.integer("width", width, minimum=1)
    if shape == "none":
        return np.zeros_like(t)
    if shape == "sudden":
        return (t >= t0).astype(float)
    if shape == "gradual":
        return sigmoid(4.0 * (t - t0 - width / 2.0) / width)
    if shape == "incremental":
        return np.clip((t - t0 + 1.0) / width, 0.0, 1.0)
    if period is None:
        return ((t >= t0) & (t < t0 + width)).astype(float)
    period = v.integer("period", period, minimum=width)
    return ((t >= t0) & (np.mod(t - t0, period) < width)).astype(float)


@dataclass(frozen=True)
class Stream:
    """A batch of drifting streams, ``runs`` replicates by ``n`` rows.

    Attributes
    ----------
    x : (runs, n, 2) feature values.
    y : (runs, n) labels in {0, 1}.
    p_true : (runs, n) true ``P(y=1 | x)`` under each row's concept.
    w : (n,) drift weight of each row position.
    shift : (runs, n) concept parameter of each row (0 = the old concept).
    kind, shape : as passed to :func:`make_stream`.
    slope : steepness of the logistic truth.
    """

    x: np.ndarray
    y: np.ndarray
    p_true: np.ndarray
    w: np.ndarray
    shift: np.ndarray
    kind: str
    shape: str
    slope: float


def make_stream(n: int, *, kind: str, shape: str, t0: float, width: int = 1,
                magnitude: float = 1.0, runs: int = 1, seed: int = 0, slope: float = 2.0,
                period: int | None = None) -> Stream:
    """Simulate ``runs`` seeded replicates of a drifting labelled stream of ``n`` rows.

    Convention: rows are time steps ``0..n-1``; each row's concept parameter is
    ``shift = magnitude * z`` with ``z ~ Bernoulli(w(t))`` for sudden, gradual
    and recurring drift, and ``shift = magnitude * w(t)`` for incremental drift.

    * covariate: ``x1 ~ N(shift, 1)``, ``x2 ~ N(0, 1)``, ``P(y=1|x) = sigmoid(slope x1)``.
    * concept: ``x ~ N(0, I)``, ``P(y=1|x) = sigmoid(slope (cos(shift) x1 + sin(shift) x2))``.
    * prior: ``y ~ Bernoulli(sigmoid(shift))``, then ``x1 | y ~ N(slope (y - 1/2), 1)``
      and ``x2 ~ N(0, 1)``. Bayes' rule gives ``P(y=1|x) = sigmoid(slope x1 + shift)``:
      at ``shift = 0`` the same truth as the other kinds, though ``x1`` then has
      variance ``1 + slope**2 / 4``.

    Parameters
    ----------
    n : rows per run (``>= 1``).
    kind : ``"covariate" | "prior" | "concept"``.
    shape, t0, width, period : see :func:`drift_weights`.
    magnitude : size of the move at full drift (standard deviations of x1 for
        covariate, radians for concept, log-odds of P(y=1) for prior).
    runs : independent replicates (leading axis).
    seed : seed for ``numpy.random.default_rng``.
    slope : logistic slope of the truth (``> 0``).

    Examples
    --------
    >>> s = make_stream(1000, kind="covariate", shape="sudden", t0=500, runs=2, seed=1)
    >>> s.x.shape, float(s.w[499]), float(s.w[500])
    ((2, 1000, 2), 0.0, 1.0)
    """
    n = v.integer("n", n, minimum=1)
    kind = v.choice("kind", kind, KINDS)
    runs = v.integer("runs", runs, minimum=1)
    magnitude = v.finite("magnitude", magnitude)
    slope = v.positive("slope", slope)
    seed = v.integer("seed", seed, minimum=0)
    w = drift_weights(np.arange(n), shape, t0, width, period=period)
    rng = np.random.default_rng(seed)
    if shape == "incremental":
        shift = np.broadcast_to(magnitude * w, (runs, n)).copy()
    else:
        shift = magnitude * (rng.random((runs, n)) < w).astype(float)
    x = rng.normal(0.0, 1.0, size=(runs, n, 2))
    if kind == "prior":
        y_prior = rng.random((runs, n)) < sigmoid(shift)
        x[..., 0] += slope * (y_prior - 0.5)
        p_true = sigmoid(slope * x[..., 0] + shift)
        return Stream(x=x, y=y_prior.astype(np.int8), p_true=p_true, w=w, shift=shift,
                      kind=kind, shape=shape, slope=slope)
    if kind == "covariate":
        x[..., 0] += shift
        p_true = sigmoid(slope * x[..., 0])
    else:
        p_true = sigmoid(slope * (np.cos(shift) * x[..., 0] + np.sin(shift) * x[..., 1]))
    y = (rng.random((runs, n)) < p_true).astype(np.int8)
    return Stream(x=x, y=y, p_true=p_true, w=w, shift=shift, kind=kind,
                  shape=shape, slope=slope)

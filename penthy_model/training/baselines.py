"""Two baselines the CNN must beat, fitted and judged on the same split as the model.

* **cutoff**: the score is how close the estimated cutoff (``penthy_model.cutoff``) comes
  to Nyquist, ``(cutoff - 15 kHz) / (Nyquist - 15 kHz)``. This is what most
  "spectrum checkers" do by eye.
* **pixel tree**: in the manner of Du & Xu, a decision tree over the pixels of a coarse
  spectrogram image: for each 156 Hz row and stereo view, the mean and the spread over
  time of the same features the CNN sees. A file's score is the mean of its windows'.
"""

from __future__ import annotations

import numpy as np

from ..audio import read_windows
from ..cutoff import estimate_cutoff
from .dataset import Cache, to_float

CUTOFF_FLOOR_HZ = 15000.0
TREE_DEPTH = 10
TREE_MIN_LEAF = 20


def cutoff_score(path) -> float:
    w = read_windows(path)
    if w.samples is None:
        return float("nan")
    cut = estimate_cutoff(w.samples, w.sample_rate) or 0
    nyquist = w.sample_rate / 2
    return float(np.clip((cut - CUTOFF_FLOOR_HZ) / (min(nyquist, 22050.0) - 300.0 - CUTOFF_FLOOR_HZ), 0.0, 1.0))


CHUNK = 2048  # windows converted to float at a time: all of a large split at once needs > 20 GB


def pixel_features(x_uint8: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
    """(N, 2, bands, frames) uint8 (rows ``idx`` of it) -> (N, 2 * 2 * bands): per-row mean
    and std over time, computed a chunk at a time."""
    idx = np.arange(len(x_uint8)) if idx is None else np.asarray(idx)
    out = np.empty((len(idx), 2 * x_uint8.shape[1] * x_uint8.shape[2]), dtype=np.float32)
    for i in range(0, len(idx), CHUNK):
        x = to_float(x_uint8[idx[i:i + CHUNK]])
        out[i:i + len(x)] = np.concatenate([x.mean(axis=3).reshape(len(x), -1),
                                            x.std(axis=3).reshape(len(x), -1)], axis=1)
    return out


class PixelTree:
    """A decision tree over coarse spectrogram pixels (needs scikit-learn, a training extra)."""

    def __init__(self, seed: int = 0):
        from sklearn.tree import DecisionTreeClassifier

        self.tree = DecisionTreeClassifier(max_depth=TREE_DEPTH, min_samples_leaf=TREE_MIN_LEAF,
                                           class_weight="balanced", random_state=seed)

    def fit(self, cache: Cache, idx: np.ndarray) -> "PixelTree":
        self.tree.fit(pixel_features(cache.x, idx), cache.labels()[idx])
        return self

    def file_scores(self, cache: Cache, row_ids: list[int]) -> np.ndarray:
        """Mean window probability of 'lossless' for each manifest row in ``row_ids``."""
        out = np.full(len(row_ids), np.nan)
        where = {r: i for i, r in enumerate(row_ids)}
        sel = np.nonzero(np.isin(cache.row, row_ids))[0]
        if len(sel) == 0:
            return out
        p = self.tree.predict_proba(pixel_features(cache.x, sel))[:, list(self.tree.classes_).index(1.0)]
        rows = cache.row[sel]
        for r in np.unique(rows):
            out[where[int(r)]] = float(p[rows == r].mean())
        return out

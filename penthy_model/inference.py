"""Running the shipped (or a retrained) ONNX model.

A model is two files side by side: ``NAME.onnx`` and ``NAME.json``. The JSON holds the
model's version, the feature parameters it was trained with and its calibrated decision
thresholds. Loading a model whose feature parameters differ from the code's is refused:
the features would not mean what the model learned.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .constants import FEATURES, FeatureParams

# How a file's window scores become its score. "mean": their mean (penthy-1.0 to 1.2).
# "logit_mean": the mean of their log-odds, mapped back to a probability, so a window the
# model is sure of counts for more than one it barely leans on. A model's sidecar names
# the pooling its thresholds were calibrated with; one that names none used "mean".
POOLINGS = ("mean", "logit_mean")
POOLING = "logit_mean"  # what training writes for new models

MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = MODELS_DIR / "penthy.onnx"


class ModelError(Exception):
    """The model files are missing, unreadable or do not match the code."""


@dataclass(frozen=True)
class Thresholds:
    """Scores below ``transcoded`` are called transcoded, at or above ``lossless`` lossless.

    ``transcoded_low_content`` replaces ``transcoded`` for files with little sound above
    16 kHz (see ``verdict``): their score rests on little evidence, so they get a threshold
    calibrated on such files alone. Left out, it is ``transcoded``.
    """

    transcoded: float
    lossless: float
    transcoded_low_content: float | None = None

    def __post_init__(self):
        if self.transcoded_low_content is None:
            object.__setattr__(self, "transcoded_low_content", self.transcoded)
        if not 0.0 <= self.transcoded <= self.lossless <= 1.0:
            raise ValueError(f"need 0 <= transcoded ({self.transcoded}) <= lossless ({self.lossless}) <= 1")
        if not 0.0 <= self.transcoded_low_content <= self.lossless:
            raise ValueError(f"need 0 <= transcoded_low_content ({self.transcoded_low_content}) "
                             f"<= lossless ({self.lossless})")


def sidecar_path(onnx_path: Path) -> Path:
    return Path(onnx_path).with_suffix(".json")


def write_sidecar(onnx_path: Path, version: str, thresholds: Thresholds, extra: dict | None = None,
                  params: FeatureParams = FEATURES, pooling: str = POOLING) -> Path:
    """Write the JSON that must travel with an ONNX file (used by training and tests)."""
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; known: {', '.join(POOLINGS)}")
    meta = {
        "version": version,
        "features": params.to_dict(),
        "pooling": pooling,
        "thresholds": {"transcoded": thresholds.transcoded, "lossless": thresholds.lossless,
                       "transcoded_low_content": thresholds.transcoded_low_content},
    }
    meta.update(extra or {})
    path = sidecar_path(onnx_path)
    path.write_text(json.dumps(meta, indent=2) + "\n")
    return path


class Model:
    """An ONNX model and its sidecar; the onnxruntime session is created on first use."""

    def __init__(self, path: str | Path | None = None, threads: int = 1):
        self.path = Path(path) if path else DEFAULT_MODEL
        self.threads = max(1, int(threads))
        meta_path = sidecar_path(self.path)
        if not self.path.is_file():
            raise ModelError(f"model file not found: {self.path}")
        try:
            meta = json.loads(meta_path.read_text())
            params = FeatureParams.from_dict(meta["features"])
            self.thresholds = Thresholds(**meta["thresholds"])
            self.version = str(meta["version"])
            self.pooling = str(meta.get("pooling", "mean"))
            if self.pooling not in POOLINGS:
                raise ValueError(f"unknown pooling {self.pooling!r}")
        except FileNotFoundError:
            raise ModelError(f"{self.path.name} needs its parameters beside it: {meta_path} is missing") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{meta_path} is not a valid model description: {exc}") from None
        if params != FEATURES:
            raise ModelError(f"{self.path} was trained with other feature parameters than this code computes "
                             f"({params} vs {FEATURES}); retrain it or use a matching penthy version")
        self.meta = meta
        self._session = None
        self._lock = threading.Lock()

    @property
    def session(self):
        if self._session is None:
            with self._lock:
                if self._session is None:
                    import onnxruntime as ort

                    opts = ort.SessionOptions()
                    opts.intra_op_num_threads = self.threads
                    opts.inter_op_num_threads = 1
                    opts.log_severity_level = 3
                    try:
                        self._session = ort.InferenceSession(str(self.path), opts,
                                                             providers=["CPUExecutionProvider"])
                    except Exception as exc:  # onnxruntime raises its own exception types
                        raise ModelError(f"cannot load {self.path}: {exc}") from None
        return self._session

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(W, 2, bands, frames) features -> (W,) probability that each window is lossless."""
        session = self.session
        name = session.get_inputs()[0].name
        out = session.run(None, {name: np.ascontiguousarray(features, dtype=np.float32)})[0]
        return np.asarray(out, dtype=np.float64).reshape(len(features))

"""The verdict rule: window scores and evidence -> lossless, transcoded or inconclusive.

The rule is deliberately cautious. A file has *evidence* when at least half its windows
carry sound above 16 kHz, clearly over a 16-bit noise floor and more than a steady floor of
noise-shaped dither. Its score pools its window scores the way the model's thresholds
were calibrated (``pool``). It is called transcoded when
that score is below the model's calibrated ``transcoded`` threshold, or, without
evidence, below ``transcoded_low_content``, which was calibrated on such files alone and
is no higher: with nothing above 16 kHz, genuine music and a transcode of it look alike. It is
called lossless only when the score clears the ``lossless`` threshold *and* it has
evidence. Everything else is inconclusive, with a reason a person can check. Whatever the
score says, a file whose samples show a lossy codec's frame grid (``evidence``, measured on
every file) is transcoded: ``apply_codec_evidence``.
"""

from __future__ import annotations

import numpy as np

from .constants import CONTENT_DBFS, FEATURES, FLOOR_RISE_DB, FLOOR_SPREAD_DB, MIN_WINDOWS, FeatureParams
from .features import band_centres
from .inference import Thresholds
from .result import INCONCLUSIVE, LOSSLESS, TRANSCODED

EVIDENCE_FROM_HZ = 16000.0
RISE_FROM_HZ = (16000.0, 17500.0)  # a rising floor is measured from here...
RISE_TOP_SPAN_HZ = (3000.0, 300.0)  # ...to this far below Nyquist (or 24 kHz)
MIN_CONTENT_SHARE = 0.5  # share of windows with high-band content needed to say "lossless"
LOGIT_CLIP = 1e-6  # window scores are kept this far from 0 and 1 before taking log-odds


def _rows(lo_hz: float, hi_hz: float, params: FeatureParams) -> np.ndarray:
    centres = band_centres(params)
    return (centres >= lo_hz) & (centres < hi_hz)


def _row_levels(features: np.ndarray, sample_rate: int, params: FeatureParams):
    """The mid channel from 16 kHz to Nyquist (or the band's top): which rows those are, and
    per window and row the power re the reference band averaged over frames, and the mean
    of its dB values."""
    rows = _rows(EVIDENCE_FROM_HZ, min(sample_rate / 2, params.band_high_hz), params)
    db = features[:, 0, rows] * (params.db_ceil - params.db_floor) + params.db_floor  # (W, rows, frames)
    return rows, np.mean(10.0 ** (db / 10.0), axis=2), db.mean(axis=2)


def _level_db(row_power: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(row_power.mean(axis=1))


def _climbing_floor(rows: np.ndarray, row_power: np.ndarray, row_db: np.ndarray, sample_rate: int,
                    params: FeatureParams) -> np.ndarray:
    top = min(sample_rate / 2, params.band_high_hz)
    low, high = _rows(*RISE_FROM_HZ, params), _rows(top - RISE_TOP_SPAN_HZ[0], top - RISE_TOP_SPAN_HZ[1], params)
    if not (low.any() and high.any()):
        return np.zeros(len(row_power), dtype=bool)
    spread = np.median(10.0 * np.log10(row_power) - row_db, axis=1)
    rise = 10.0 * np.log10(row_power[:, high[rows]].mean(axis=1) / row_power[:, low[rows]].mean(axis=1))
    return (spread < FLOOR_SPREAD_DB) & (rise > FLOOR_RISE_DB)


def high_band_db(features: np.ndarray, sample_rate: int, params: FeatureParams = FEATURES) -> np.ndarray:
    """Mean mid-channel level (dB re the reference band) from 16 kHz to Nyquist, per window."""
    return _level_db(_row_levels(features, sample_rate, params)[1])


def rising_noise_floor(features: np.ndarray, sample_rate: int, params: FeatureParams = FEATURES) -> np.ndarray:
    """Which windows hold nothing above 16 kHz but a steady floor that climbs towards Nyquist.

    That is noise-shaped dither (see ``FLOOR_SPREAD_DB`` and ``FLOOR_RISE_DB``): steady as
    noise from frame to frame, and louder at the top of the band than at 16-17.5 kHz.
    """
    return _climbing_floor(*_row_levels(features, sample_rate, params), sample_rate, params)


def has_evidence(content_share: float | None) -> bool:
    """Whether a file with this share of windows with sound above 16 kHz has evidence."""
    return (content_share or 0.0) >= MIN_CONTENT_SHARE


def logit(p) -> np.ndarray:
    """Log-odds of probabilities, kept LOGIT_CLIP away from 0 and 1 so they stay finite."""
    p = np.clip(np.asarray(p, dtype=np.float64), LOGIT_CLIP, 1.0 - LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


def sigmoid(z) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def pool(window_scores: np.ndarray, pooling: str = "mean") -> float:
    """One score in [0, 1] for a file from its windows' (see ``inference.POOLINGS``)."""
    p = np.asarray(window_scores, dtype=np.float64)
    if p.size == 0:
        return float("nan")
    if pooling == "mean":
        return float(p.mean())
    if pooling == "logit_mean":
        return float(sigmoid(np.mean(logit(p))))
    raise ValueError(f"unknown pooling {pooling!r}")


def decide(window_scores: np.ndarray, has_content: np.ndarray, thresholds: Thresholds,
           pooling: str = "mean") -> tuple[float, str, str | None]:
    """Return (score, verdict, reason) for one file."""
    window_scores = np.asarray(window_scores, dtype=np.float64)
    if window_scores.size < MIN_WINDOWS:
        return (pool(window_scores, pooling), INCONCLUSIVE,
                f"only {window_scores.size} usable window(s) of sound; need {MIN_WINDOWS}")
    score = pool(window_scores, pooling)
    share = float(np.mean(has_content))
    evidence = has_evidence(share)
    if score < (thresholds.transcoded if evidence else thresholds.transcoded_low_content):
        return score, TRANSCODED, None
    if not evidence:
        return score, INCONCLUSIVE, (f"little sound above 16 kHz (in {share:.0%} of windows; a steady floor "
                                     "of noise-shaped dither does not count): too little there to tell "
                                     "a lossy encoder's work from the music's own")
    if score >= thresholds.lossless:
        return score, LOSSLESS, None
    return score, INCONCLUSIVE, f"score {score:.2f} is between the thresholds"


def content_flags(features: np.ndarray, reference_dbfs: np.ndarray, sample_rate: int) -> np.ndarray:
    """Which windows have sound above 16 kHz clearly over a 16-bit noise floor that is not
    just noise-shaped dither."""
    levels = _row_levels(features, sample_rate, FEATURES)  # computed once for both tests
    loud = _level_db(levels[1]) + reference_dbfs > CONTENT_DBFS
    return loud & ~_climbing_floor(*levels, sample_rate, FEATURES)


CODEC_NAMES = {"mp3": "MP3", "aac": "AAC", "vorbis": "Vorbis"}


def codec_finding(evidence, min_z):
    """The strongest codec measure of ``evidence`` (``evidence.CodecEvidence``) at or above
    its codec's threshold in ``min_z`` (codec -> z), or None."""
    found = [m for m in evidence.measures if m.measured and m.z >= min_z.get(m.codec, np.inf)]
    return max(found, key=lambda m: m.z) if found else None


def apply_codec_evidence(result, evidence, min_z) -> None:
    """The one decision on codec evidence: a file whose samples show a codec's frame grid
    (``codec_finding``) is transcoded whatever the model said, with ``score`` 0 and a reason
    naming the codec and the evidence (``model_score`` keeps the network's own)."""
    found = codec_finding(evidence, min_z)
    if found is None:
        return
    name = CODEC_NAMES.get(found.codec, found.codec)
    model = "" if result.model_score is None else f"; the spectrogram model alone scored {result.model_score:.4f}"
    result.codec, result.verdict, result.score = found.codec, TRANSCODED, 0.0
    at = "" if found.alignment is None else f" at alignment {found.alignment}"
    result.reason = (f"decoded from {name}: its frame grid shows in {found.windows} windows of the {found.where} "
                     f"({found.sign}{at}, z {found.z:.1f}){model}")

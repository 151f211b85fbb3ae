"""The verdict: every stage's findings -> lossless, transcoded or inconclusive, in one place.

``Policy`` holds every decision threshold: the CNN's (from the model's sidecar), the evidence
levels that say whether a window has sound above 16 kHz, the codec grids' z's (to name a
codec, and to back the CNN), the quantiser levels that say which of the codecs cutting the
same grid made it (``Policy.named``), the least band-end step for Opus's "opus_bandend"
measure (passed to the detectors, as the levels at which they stop reading are) and the lossy
texture's. ``decide(findings, policy)`` is the one function that turns a file's findings into
a ``Decision``: verdict, score, reason, and the codec measure that proves or backs it where
one does. The CLI's ``--threshold`` and the
plugin's ``threshold`` go through ``Policy.with_threshold``.

The rule: ``transcoded`` needs proof. Proof is a codec's frame grid in the samples (AAC,
Vorbis, MP3, Opus, AC3, MP2, Musepack or WMA, z at or above its threshold, which also names
the codec), or the CNN's transcoded verdict backed by evidence no steady filter leaves: a
codec's grid at its ``codec_support_z`` or more (too weak to name the codec), or lossy
texture (``texture``: the band under the cutoff changing from frame to frame) at or above
``texture_min``. Such a grid also decides a file the CNN leaves undecided (its score under
``lossless`` without reading transcoded): the support levels were set on every genuine
selection file, whatever the CNN said of it. A cliff alone is no proof: a steep mastering
low-pass, a 32 kHz source resampled to 44.1 kHz or a 48 kHz master brought down to 44.1 kHz
leave one too, so the CNN's transcoded verdict without proof is ``inconclusive``, with a
reason a person can check. A hi-res file with content running unbroken well above 24 kHz is
never accused on the CNN's word: no MP3, Opus or 44.1/48 kHz AAC/Vorbis stream carries such
content.

The CNN's own reading: a file has *evidence* when at least half its windows carry sound above
16 kHz, clearly over a 16-bit noise floor and more than a steady floor of noise-shaped dither.
Its score pools its window scores the way the model's thresholds were calibrated (``pool``).
The CNN reads it as transcoded when that score is below ``transcoded``, or, without evidence,
below ``transcoded_low_content``; as lossless only when the score clears ``lossless`` *and* it
has evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from .constants import (CODEC_MIN_Z, CODEC_SUPPORT_Z, CONTENT_DBFS, FEATURES, FLOOR_RISE_DB, FLOOR_SPREAD_DB,
                        GRID_ABSENT_SHARE, GRID_CLEAR_Z, MIN_SAMPLE_RATE, MIN_WINDOWS, OPUS_BAND_END_DB,
                        QUANTISER_LEVELS, FeatureParams)
from .features import band_centres
from .inference import Thresholds
from .result import CODEC_NAMES, INCONCLUSIVE, LOSSLESS, TRANSCODED

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
                    params: FeatureParams, spread_db: float = FLOOR_SPREAD_DB,
                    rise_db: float = FLOOR_RISE_DB) -> np.ndarray:
    top = min(sample_rate / 2, params.band_high_hz)
    low, high = _rows(*RISE_FROM_HZ, params), _rows(top - RISE_TOP_SPAN_HZ[0], top - RISE_TOP_SPAN_HZ[1], params)
    if not (low.any() and high.any()):
        return np.zeros(len(row_power), dtype=bool)
    spread = np.median(10.0 * np.log10(row_power) - row_db, axis=1)
    rise = 10.0 * np.log10(row_power[:, high[rows]].mean(axis=1) / row_power[:, low[rows]].mean(axis=1))
    return (spread < spread_db) & (rise > rise_db)


def high_band_db(features: np.ndarray, sample_rate: int, params: FeatureParams = FEATURES) -> np.ndarray:
    """Mean mid-channel level (dB re the reference band) from 16 kHz to Nyquist, per window."""
    return _level_db(_row_levels(features, sample_rate, params)[1])


def rising_noise_floor(features: np.ndarray, sample_rate: int, params: FeatureParams = FEATURES) -> np.ndarray:
    """Which windows hold nothing above 16 kHz but a steady floor that climbs towards Nyquist.

    That is noise-shaped dither (see ``FLOOR_SPREAD_DB`` and ``FLOOR_RISE_DB``): steady as
    noise from frame to frame, and louder at the top of the band than at 16-17.5 kHz.
    """
    return _climbing_floor(*_row_levels(features, sample_rate, params), sample_rate, params)


def has_evidence(content_share: float | None, min_share: float = MIN_CONTENT_SHARE) -> bool:
    """Whether a file with this share of windows with sound above 16 kHz has evidence."""
    return (content_share or 0.0) >= min_share


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


# --- the policy -------------------------------------------------------------------------------
# The lossy-texture score (``texture.measure``, dB) that backs the CNN's transcoded verdict:
# 1.25 x the highest score of any genuine selection clip of the issue-25 kinds (steep linear- and
# minimum-phase low-passes at 15-21.5 kHz, 32 -> 44.1/48 kHz, 48 -> 44.1 kHz, native hi-res, eight
# ways of making music), rounded up to 0.05; see MODEL_CARD.md and /work/data/d25/rule.md.
TEXTURE_MIN_DB = 1.1  # highest genuine selection score 0.87 dB
# How far below Nyquist a cutoff must lie to be called a low-pass in a reason.
LOWPASS_REASON_BELOW_NYQUIST = 0.95


@dataclass(frozen=True)
class Findings:
    """What the stages found in one file; ``decide`` reads nothing else."""

    window_scores: Sequence[float]  # the network's, per window (empty: the network did not read the file)
    has_content: Sequence[bool]
    sample_rate: int | None = None
    cutoff_hz: float | None = None
    upsampled_from: int | None = None
    hires_content_hz: float | None = None  # content unbroken well above 24 kHz (upsampling.hires_content_hz)
    codec: object = None  # evidence.CodecEvidence: every codec's frame-grid measure (None: not measured)
    texture: float | None = None  # texture.measure's score (dB), None when there was no band to judge
    texture_band_hz: tuple[float, float] | None = None


@dataclass(frozen=True)
class Policy:
    """Every decision threshold, in one place. Build it with ``Policy.for_model(model)``;
    ``with_threshold`` gives a copy with the CNN thresholds overridden."""

    transcoded: float
    lossless: float
    transcoded_low_content: float
    pooling: str = "mean"
    min_windows: int = MIN_WINDOWS
    min_sample_rate: int = MIN_SAMPLE_RATE  # below it there is no band above 16 kHz for the network to read
    content_dbfs: float = CONTENT_DBFS
    floor_spread_db: float = FLOOR_SPREAD_DB
    floor_rise_db: float = FLOOR_RISE_DB
    min_content_share: float = MIN_CONTENT_SHARE
    codec_min_z: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(dict(CODEC_MIN_Z)))
    grid_clear_z: float = GRID_CLEAR_Z  # a detector stops reading once a codec stands this high...
    grid_absent_share: float = GRID_ABSENT_SHARE  # ...or every codec under this share of its threshold
    texture_min: float = TEXTURE_MIN_DB
    codec_support_z: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(dict(CODEC_SUPPORT_Z)))
    quantiser_levels: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(dict(QUANTISER_LEVELS)))
    opus_band_end_db: float = OPUS_BAND_END_DB  # the least step at 20 kHz for Opus's "opus_bandend" measure

    def __post_init__(self):
        self.thresholds  # validates the CNN thresholds

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.transcoded, self.lossless, self.transcoded_low_content)

    @classmethod
    def for_model(cls, model, thresholds: Thresholds | None = None) -> "Policy":
        """The policy for a ``Model``: its sidecar's thresholds and pooling (or ``thresholds``)."""
        t = thresholds or model.thresholds
        return cls(t.transcoded, t.lossless, t.transcoded_low_content, pooling=model.pooling)

    def with_thresholds(self, t: Thresholds) -> "Policy":
        return replace(self, transcoded=t.transcoded, lossless=t.lossless,
                       transcoded_low_content=t.transcoded_low_content)

    def with_threshold(self, value: float | dict) -> "Policy":
        """A copy with the CNN thresholds overridden, as ``--threshold`` and the plugin's
        ``threshold`` ask: a number sets ``transcoded`` (and the low-content one) and raises
        ``lossless`` to it if below; a dict may set ``transcoded`` and/or ``lossless``.
        Raises ValueError for values that do not fit 0 <= transcoded <= lossless <= 1."""
        if isinstance(value, dict):
            unknown = set(value) - {"transcoded", "lossless"}
            if unknown:
                raise ValueError(f"threshold takes transcoded and lossless, not {', '.join(sorted(map(str, unknown)))}")
            transcoded = float(value.get("transcoded", self.transcoded))
            lossless = float(value.get("lossless", max(self.lossless, transcoded)))
            low = transcoded if "transcoded" in value else self.transcoded_low_content
            return self.with_thresholds(Thresholds(transcoded, lossless, min(low, lossless)))
        value = float(value)
        return self.with_thresholds(Thresholds(value, max(value, self.lossless)))

    def model_reads_transcoded(self, model_score: float, has_content) -> bool:
        """Whether the network's pooled score (``pool`` of its window scores) is under its
        threshold (the low-content one for a file without sound above 16 kHz in enough
        windows): its "transcoded", proof or not."""
        share = float(np.mean(np.asarray(has_content, dtype=bool))) if len(has_content) else 0.0
        limit = self.transcoded if has_evidence(share, self.min_content_share) else self.transcoded_low_content
        return model_score < limit

    @property
    def detector_requires(self) -> dict[str, float]:
        """What a detector's measure must reach for the detector to report it, by grid
        (``evidence.find_codec``'s ``requires``)."""
        return {"opus_bandend": self.opus_band_end_db}

    @property
    def grid_absent_z(self) -> dict[str, float]:
        """Per codec, the z under which a detector's screen may call it absent and stop."""
        return {codec: z * self.grid_absent_share for codec, z in self.codec_min_z.items()}

    def named(self, measure):
        """``measure`` under the codec it shows: its detector's (the alignment and window that
        found the grid), or another codec that cuts the same grid where that one's quantiser
        mark there reaches its ``quantiser_levels`` and stands above the own's mark of the same
        kind (lattices, ``measure.lattices``; ratio marks, ``measure.ratios``; an own codec
        without a mark of that kind does not stand in the way); then a copy with that codec,
        the same z."""
        fits = []
        for marks in (dict(measure.lattices), dict(measure.ratios)):
            own = marks.get(measure.codec, np.nan)
            fits += [(z, c) for c, z in marks.items()
                     if c != measure.codec and z >= self.quantiser_levels.get(c, np.inf) and not own >= z]
        if not fits:
            return measure
        codec = max(fits)[1]
        return replace(measure, codec=codec,
                       sign=f"{measure.sign}, sizes on {CODEC_NAMES.get(codec, codec)}'s quantiser steps")

    def proof(self, evidence):
        """The codec measure of ``evidence`` (``evidence.CodecEvidence``) that is proof: z at or
        above its codec's threshold, the strongest relative to it, under the codec it shows
        (``named``); None without one."""
        return self._strongest(evidence, self.codec_min_z)

    def support(self, evidence):
        """The codec measure of ``evidence`` at or above its codec's ``codec_support_z``, the
        strongest relative to it (``named``): a grid too weak to name the codec, but one no
        steady filter leaves; None without one."""
        return self._strongest(evidence, self.codec_support_z)

    def _strongest(self, evidence, levels: Mapping[str, float]):
        """The measure of ``evidence``, named, at or above its codec's level, the strongest relative to it."""
        if evidence is None:
            return None
        return _strongest([self.named(m) for m in evidence.measures], levels)


def _strongest(measures, levels: Mapping[str, float]):
    """The measure at or above its codec's level, the strongest relative to it."""
    passed = [m for m in measures if m.measured and m.z >= level_of(m, levels)]
    return max(passed, key=lambda m: m.z / level_of(m, levels)) if passed else None


def level_of(measure, levels: Mapping[str, float]) -> float:
    """A codec measure's level in ``levels``: its grid's where it has one, else its codec's."""
    return level_for(measure.codec, measure.grid, levels)


def level_for(codec: str, grid: str | None, levels: Mapping[str, float], missing=np.inf):
    """The level in ``levels`` of ``codec``'s measure of ``grid``: the grid's where it has one,
    else the codec's, else ``missing``."""
    return levels[grid] if grid in levels else levels.get(codec, missing)


class Decision(NamedTuple):
    """What ``decide`` returns."""

    verdict: str
    score: float | None  # the CNN's pooled score; 0.0 where a codec's grid proves a transcode
    reason: str | None
    proof: object = None  # the evidence.CodecMeasure that proves it, named by the policy (``Policy.named``)
    support: object = None  # the weaker one that backs the CNN's transcoded verdict, named the same way


def _grid_seen(found) -> str:
    """What a codec measure saw, for a reason: "(sign at alignment A, z Z)"."""
    at = "" if found.alignment is None else f" at alignment {found.alignment}"
    return f"({found.sign}{at}, z {found.z:.1f})"


def codec_reason(found, model_score: float | None) -> str:
    """The reason of a verdict a codec's frame grid proves."""
    name = CODEC_NAMES.get(found.codec, found.codec)
    model = "" if model_score is None else f"; the spectrogram model alone scored {model_score:.4f}"
    return (f"decoded from {name}: its frame grid shows in {found.windows} windows of the {found.where} "
            f"{_grid_seen(found)}{model}")


def support_reason(found, score: float, policy: Policy, undecided: bool = False) -> str:
    """The reason of a transcoded verdict a weak codec grid backs: the CNN's, or one the CNN
    left ``undecided`` (between its thresholds, or without sound above 16 kHz to judge)."""
    name = CODEC_NAMES.get(found.codec, found.codec)
    model = (f"the model scored {score:.2f}, too low to vouch for the file" if undecided else
             f"the model scored {score:.2f}")
    return (f"{model}, and {name}'s frame grid shows weakly in the {found.where} "
            f"{_grid_seen(found)}: no steady filter leaves one, but it is too weak to name the codec "
            f"(z {level_of(found, policy.codec_min_z):.1f} would)")


def _khz(hz: float) -> str:
    return f"{hz / 1000:.1f} kHz"


def _no_proof_reason(f: Findings, score: float, policy: Policy) -> str:
    """Why a file the CNN reads as transcoded is not called so: what else looks the same."""
    texture = ("no band under the cutoff to judge its texture" if f.texture is None else
               f"the band under the cutoff is steady (lossy texture {f.texture:.2f} dB, under {policy.texture_min:.2f})")
    if f.hires_content_hz:
        return (f"content runs on to {_khz(f.hires_content_hz)} in a {f.sample_rate / 1000:g} kHz file: no MP3, Opus "
                f"or 44.1/48 kHz AAC/Vorbis stream carries that; the model scored {score:.2f}, but no codec frame grid")
    if f.upsampled_from:
        wall = f.cutoff_hz if f.cutoff_hz and f.cutoff_hz <= f.upsampled_from / 2 else f.upsampled_from / 2
        return (f"a brick wall at {_khz(wall)}, as resampling from {f.upsampled_from / 1000:g} kHz "
                f"leaves, and no codec frame grid: the model scored {score:.2f}, but a resampler's (or a mastering) "
                f"filter looks the same; " + texture)
    if f.cutoff_hz and f.sample_rate and f.cutoff_hz < LOWPASS_REASON_BELOW_NYQUIST * f.sample_rate / 2:
        return (f"a steady low-pass at {_khz(f.cutoff_hz)} and no codec frame grid: a mastering or resampling filter "
                f"looks the same; the model scored {score:.2f}, and {texture}")
    return f"the model scored {score:.2f}, but there is no codec frame grid and {texture}"


def decide(findings: Findings, policy: Policy) -> Decision:
    """The verdict, score, reason and proof for one file from its findings. ``score`` is the
    CNN's pooled score, 0.0 when a codec's frame grid proves a transcode, None when the
    network could not read the file (a sample rate under ``policy.min_sample_rate``)."""
    f = findings
    window_scores = np.asarray(f.window_scores, dtype=np.float64)
    read = f.sample_rate is None or f.sample_rate >= policy.min_sample_rate
    score = pool(window_scores, policy.pooling) if read else None
    grid = policy.proof(f.codec)
    if grid is not None:  # a codec grid needs no band above 16 kHz
        return Decision(TRANSCODED, 0.0, codec_reason(grid, score), grid)
    if not read:
        return Decision(INCONCLUSIVE, None, f"sample rate {f.sample_rate} Hz: there is no band above 16 kHz to judge")
    if window_scores.size < policy.min_windows:
        return Decision(INCONCLUSIVE, score,
                        f"only {window_scores.size} usable window(s) of sound; need {policy.min_windows}")
    share = float(np.mean(np.asarray(f.has_content, dtype=bool))) if len(f.has_content) else 0.0
    evidence = has_evidence(share, policy.min_content_share)
    weak = policy.support(f.codec) if f.hires_content_hz is None else None
    if policy.model_reads_transcoded(score, f.has_content):
        if weak is not None:
            return Decision(TRANSCODED, score, support_reason(weak, score, policy), support=weak)
        if f.hires_content_hz is None and f.texture is not None and f.texture >= policy.texture_min:
            lo, hi = f.texture_band_hz or (None, None)
            where = f" at {_khz(lo)}-{_khz(hi)}" if lo else ""
            return Decision(TRANSCODED, score,
                            f"the model scored {score:.2f} and the band under the cutoff{where} changes from frame "
                            f"to frame as a lossy coder's does (lossy texture {f.texture:.2f} dB; a steady filter "
                            f"stays under {policy.texture_min:.2f})")
        return Decision(INCONCLUSIVE, score, _no_proof_reason(f, score, policy))
    if weak is not None and score < policy.lossless:  # the network leaves it undecided; the grid does not
        return Decision(TRANSCODED, score, support_reason(weak, score, policy, undecided=True), support=weak)
    if not evidence:
        return Decision(INCONCLUSIVE, score, f"little sound above 16 kHz (in {share:.0%} of windows; a steady "
                                             "floor of noise-shaped dither does not count): too little there to "
                                             "tell a lossy encoder's work from the music's own")
    if score >= policy.lossless:
        return Decision(LOSSLESS, score, None)
    return Decision(INCONCLUSIVE, score, f"score {score:.2f} is between the thresholds")


def content_flags(features: np.ndarray, reference_dbfs: np.ndarray, sample_rate: int,
                  policy: Policy | None = None) -> np.ndarray:
    """Which windows have sound above 16 kHz clearly over a 16-bit noise floor that is not
    just noise-shaped dither (levels from ``policy``, or the defaults)."""
    content_dbfs = policy.content_dbfs if policy else CONTENT_DBFS
    spread = policy.floor_spread_db if policy else FLOOR_SPREAD_DB
    rise = policy.floor_rise_db if policy else FLOOR_RISE_DB
    levels = _row_levels(features, sample_rate, FEATURES)  # computed once for both tests
    loud = _level_db(levels[1]) + reference_dbfs > content_dbfs
    return loud & ~_climbing_floor(*levels, sample_rate, FEATURES, spread, rise)

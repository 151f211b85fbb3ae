"""Codec evidence: whether a file's samples show the frame grid of a lossy codec.

Each codec family has a detector module (``mdct`` for AAC and Vorbis, whose grids may coincide:
it also reads the marks each one's quantiser leaves, and WMA's where WMA cuts the same frame,
``quantiser``; ``mp3`` for MP3,
``ac3`` for AC3/E-AC3, ``wma`` for WMA, ``opus`` for Opus (its grid at 48 kHz, above 20 kHz
and in the small coefficients under it, its frame edges at 44.1 kHz too, above 20 kHz and just
above a low-passed source's cutoff),
``layer2`` for the polyphase subband grid of MP2 and Musepack; ``mdctgrid`` is what the
AC3 and WMA grids share);
``stats`` holds what they share (near-zero counts, z above chance). :func:`find_codec`
runs every detector on the windows the engine read and returns what they MEASURED, one
:class:`CodecMeasure` per codec: how many standard deviations the codec's alignment stands
above chance, where, in which channel. It decides nothing: calling a file transcoded on
that evidence is the verdict's job (``verdict.Policy.proof`` and ``verdict.decide``).

A detector is a function ``(samples, starts, sample_rate, clear_z, absent_z, thorough,
requires) -> list[CodecMeasure]``: ``samples`` (W, length, channels) float in [-1, 1],
``starts`` each window's first sample in the file. It screens a fraction of the samples
first and may stop there when the answer is clear either way: a codec at ``clear_z`` or
above, or every codec it measures under ``absent_z[codec]`` with enough sound counted.
``thorough`` asks it to read everything and to look beyond the alignments decoders give (for
files the spectrogram model leaves undecided). ``requires[grid]`` is what a measure of that
grid must reach for the detector to report it (Opus's band-end step, dB). The three levels
are the policy's. Add one to ``DETECTORS`` to have it run on every file.

A window whose waveform repeats exactly (``repeats``) counts the same blocks again and again
and can make any alignment stand out, and so can music cut to exact silence and back (a
hard gate) and voices of a few sample levels (chip tunes, 8-bit sources): where a codec
reaches REVIEW_Z, such windows are dropped and the detectors run again on the others. A
wave that repeats exactly under the music (``repeats.periodic_part``) can lift the
alignments its edges fall on: where one is found, the detectors also run on the samples
without it, and each codec keeps the lower z.

A thorough look may also read more of the file (``find_codec``'s ``wide``): the detectors in
``WIDE`` measure those windows too, and each of their codecs keeps the higher z of the two
reads (the wider read is not a superset of the usual windows: it adds audio, but must not hide
what the usual windows showed). That is the Opus frame edges', whose z is limited by how much
audio it reads, not by the alignments it tries (a decode leaks above 20 kHz in a few frames).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import numpy as np

from ..constants import DETECTOR_REQUIRES
from .stats import REVIEW_Z


@dataclass(frozen=True)
class CodecMeasure:
    """One codec's frame-grid measurement on one file."""

    codec: str  # lower case: "mp3", "aac", "vorbis"
    z: float  # standard deviations above chance at the codec's alignment (NaN: too little sound to measure)
    alignment: int | None = None  # the grid's offset from the file's first sample, mod the codec's hop
    windows: int = 0  # windows measured
    channel: str = ""  # "mid", "side", "left", "right", "mix" or "left, right, mid and side"
    sign: str = "near-zero coefficients"  # what stood out at that alignment
    grid: str = ""  # the grid measured, where its detector may name the codec otherwise ("subband"), or where
    # a codec has more than one measure ("opus_lowpass", "opus_lowpass_low", "opus_bandend", "opus_zeros");
    # the policy's levels for a grid, where it has them, come first
    lattices: tuple[tuple[str, float], ...] = ()  # where read: (codec, z) of each quantiser's lattice in the
    # sizes at the grid (``quantiser``), by which the policy may name another codec that cuts the same grid
    ratios: tuple[tuple[str, float], ...] = ()  # the same for the quantisers' ratio marks (WMA's, AAC's),
    # where the rate gives WMA the grid's frame: marks of another kind, compared only with each other

    @property
    def measured(self) -> bool:
        return math.isfinite(self.z)

    @property
    def where(self) -> str:
        if not self.channel:
            return "samples"
        return f"{self.channel} channels" if " and " in self.channel else f"{self.channel} channel"


@dataclass(frozen=True)
class CodecEvidence:
    """Every detector's measures for one file (what ``find_codec`` returns)."""

    measures: tuple[CodecMeasure, ...] = field(default_factory=tuple)

    @property
    def strongest(self) -> CodecMeasure | None:
        """The measure with the largest z (None when no codec could be measured)."""
        measured = [m for m in self.measures if m.measured]
        return max(measured, key=lambda m: m.z) if measured else None

    @property
    def z(self) -> float | None:
        best = self.strongest
        return None if best is None else best.z

    def of(self, codec: str) -> CodecMeasure | None:
        return next((m for m in self.measures if m.codec == codec), None)


Detector = Callable[[np.ndarray, Sequence[int], int, float, Mapping[str, float], bool, Mapping[str, float]], list]


def _plain(codec: str, measure) -> Detector:
    """A detector from a ``measure(samples, starts, sample_rate, thorough) -> (z, alignment)``
    that reads a fixed share of the windows (no screen to stop early)."""

    def detect(samples, starts, sample_rate, clear_z, absent_z, thorough, requires=None):
        z, alignment = measure(samples, starts, sample_rate, thorough=thorough)
        return [CodecMeasure(codec, float(z), alignment, len(samples), "")]

    detect.__name__ = f"{codec}_detector"
    return detect


def _subband(samples, starts, sample_rate, clear_z, absent_z, thorough, requires=None):
    """MP2 and Musepack share the polyphase subband grid; the coder is named by the steps of
    its scalefactors (``layer2.identify``), or "subband" where they are too few to tell."""
    from . import layer2

    found = layer2.identify(samples, starts, sample_rate)
    return [CodecMeasure(found.codec or "subband", float(found.z), found.phase, len(samples), "",
                         "equal pairs of subband samples", grid="subband")]


def _detectors() -> tuple[Detector, ...]:
    from . import ac3, mdct, mp3, opus, wma

    # MP3 first: the commonest, and its screen is the cheapest; the costliest (subband) last.
    return (mp3.measure, mdct.measure, _plain("ac3", ac3.measure), _plain("wma", wma.measure),
            opus.detect, _subband)


DETECTORS: tuple[Detector, ...] = _detectors()
# The detectors a file the network vouches for still gets: the codecs it misses most (MP3 at
# high rates, AAC at 256k and up, Vorbis q6+, AC3 at 384k and up). WMA, Opus and the subband
# coders it catches almost always, so their grids run where it does not vouch (cost: about
# 45 ms a file).
EVERY_FILE: tuple[Detector, ...] = DETECTORS[:3]


def _wide_detectors() -> tuple[Detector, ...]:
    from . import opus
    return (opus.detect,)


# The detectors that also read the wider windows of a thorough look where the engine offers them.
WIDE: tuple[Detector, ...] = _wide_detectors()


def find_codec(samples: np.ndarray, starts: Sequence[int], sample_rate: int, clear_z: float = math.inf,
               absent_z: Mapping[str, float] | float = -math.inf, thorough: bool = False,
               detectors: Sequence[Detector] = DETECTORS,
               wide: Callable[[], tuple[np.ndarray, Sequence[int]] | None] | None = None,
               requires: Mapping[str, float] = DETECTOR_REQUIRES) -> CodecEvidence:
    """Run every detector on the windows (``samples`` (W, length, channels) float in [-1, 1],
    ``starts`` their first samples in the file). A detector stops early once a codec stands
    at ``clear_z`` or above, or every codec it measures is under ``absent_z`` (one z for all,
    or per codec) after its screen; the defaults measure everything. Once a codec stands at
    ``clear_z`` the remaining detectors are not run. ``thorough``: see the module. ``wide``:
    for a thorough look, reads more windows of the file (samples, starts), or gives None where
    the file holds few more; the detectors in ``WIDE`` measure those too, and each of their
    codecs keeps the higher z of the two reads. ``requires``: see the module."""
    if not isinstance(absent_z, Mapping):
        absent_z = defaultdict(lambda z=float(absent_z): z)
    else:
        absent_z = defaultdict(lambda: -math.inf, absent_z)
    if samples is None or len(samples) == 0:
        return CodecEvidence()
    measures = _guarded(detectors, samples, starts, sample_rate, clear_z, absent_z, thorough, requires)
    again = [d for d in detectors if d in WIDE] if wide is not None and thorough else []
    more = wide() if again and not any(m.z >= clear_z for m in measures) else None
    if more is not None:
        wider = _guarded(again, *more, sample_rate, clear_z, absent_z, thorough, requires)
        measures = [_stronger(m, wider) for m in measures]
    return CodecEvidence(tuple(measures))


def _guarded(detectors, samples, starts, sample_rate, clear_z, absent_z, thorough, requires) -> list[CodecMeasure]:
    """The detectors' measures on these windows, with the checks of the module (windows that
    repeat, gate or hold few levels dropped; a wave under the music taken out)."""
    if not detectors:
        return []
    measures = _run(detectors, samples, starts, sample_rate, clear_z, absent_z, thorough, requires)
    if any(m.z >= REVIEW_Z for m in measures):
        from .repeats import few_levels, gated, periodic_part, repeating

        drop = repeating(samples) | gated(samples) | few_levels(samples)
        if drop.all():
            return []
        if drop.any():
            keep = np.flatnonzero(~drop)
            samples, starts = samples[keep], [starts[i] for i in keep]
            measures = _run(detectors, samples, starts, sample_rate, clear_z, absent_z, thorough, requires)
        part = periodic_part(samples, starts) if any(m.z >= REVIEW_Z for m in measures) else None
        if part is not None:  # a wave under the music: the grid must stand without it too
            rest = _run(detectors, samples - part, starts, sample_rate, clear_z, absent_z, thorough, requires)
            measures = [_weaker(m, rest) for m in measures]
    return measures


def _stronger(measure: CodecMeasure, others: Sequence[CodecMeasure]) -> CodecMeasure:
    """``measure`` or the same grid's in ``others`` (another read of the file), whichever stands
    higher; a grid the other read did not measure keeps ``measure``."""
    grid = measure.grid or measure.codec
    other = next((m for m in others if (m.grid or m.codec) == grid and m.measured), None)
    if other is None or (measure.measured and measure.z >= other.z):
        return measure
    return other


def _weaker(measure: CodecMeasure, others: Sequence[CodecMeasure]) -> CodecMeasure:
    """``measure`` or the same grid's in ``others``, whichever stands lower (the subband
    detector names its grid by the scalefactor steps it finds, which another look may find
    too few of); a grid the second look did not measure counts as not measured."""
    if not measure.measured:
        return measure
    grid = measure.grid or measure.codec
    other = next((m for m in others if (m.grid or m.codec) == grid), None)
    if other is None or not other.measured:
        return replace(measure, z=math.nan)
    return other if other.z < measure.z else measure


def _run(detectors, samples, starts, sample_rate, clear_z, absent_z, thorough, requires) -> list[CodecMeasure]:
    measures: list[CodecMeasure] = []
    for detect in detectors:
        measures.extend(detect(samples, starts, sample_rate, clear_z, absent_z, thorough, requires))
        if any(m.z >= clear_z for m in measures):
            break  # clear: the other detectors could only add a weaker codec
    return measures


__all__ = ["CodecEvidence", "CodecMeasure", "DETECTORS", "EVERY_FILE", "REVIEW_Z", "WIDE", "find_codec"]

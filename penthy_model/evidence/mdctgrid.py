"""A plain-MDCT frame grid at an unknown alignment: the machinery the AC3, Opus and WMA
detectors share (each names its block length, hop and window).

A transform coder cuts the signal into blocks of ``block`` samples every ``hop`` samples,
transforms each with an MDCT under its window and stores the coefficients quantised. A
decoder rebuilds the samples from them exactly, up to the 16-bit rounding of the decode. So
the same transform, re-applied where the encoder applied it, finds the quantised values
again: coefficients the coder zeroed come back as rounding noise between neighbours that
carry music, and coefficients it coded with the same step and the same quantised value
come back with equal sizes. At any other alignment, and in genuine audio at every one,
both are only as common as chance makes them (see :mod:`penthy_model.evidence.mdct`, whose counts
are used here).

Where the grid lies depends on the encoder's delay and on whether the decoder trimmed it,
so all ``hop`` alignments are tried, in two looks at different samples:

- the scan reads the first ``block + hop - 1`` samples of a few windows, which hold one
  block at every alignment, in one batched MDCT, and picks the alignment whose shares of
  near-zero coefficients and equal pairs stand highest;
- the confirmation reads the rest of every window, only at that alignment, at the few
  alignments where known decoders put the grid (``Grid.known``), and at ``BASELINE``
  alignments spread over the hop (none close to a candidate), and measures how many standard
  deviations each candidate stands above the baseline (``chance_z``). Chosen before these
  samples were read, a candidate gets no lift from the search: a genuine file's z is a draw
  from chance (the best of a few).

A stereo coder codes left and right, or mid and side, band by band; the counts pool the
four (the MDCT is linear: mid and side come from the left and right coefficients).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from penthy_model.evidence.mdct import mdct
from penthy_model.evidence.stats import ACTIVE_LSB, LOW_HZ, LSB, MIN_ACTIVE, REPEAT_LSB, chance_z, spread_windows

SMALL_LSB = 1.0  # a coefficient under this (16-bit steps; the MDCT is orthonormal) is "nothing"
GROUP = 16  # ...counted where its group of GROUP neighbouring coefficients carries ACTIVE_LSB (RMS)
# Equal pairs: two coefficients at most EQUAL_SPAN apart, both at least EQUAL_MIN_LSB, whose
# sizes differ by under EQUAL_LSB (16-bit steps), as in :mod:`penthy_model.evidence.mp3`.
EQUAL_SPAN = 3
EQUAL_MIN_LSB = 6.0
EQUAL_LSB = 0.25
BASELINE = 12  # alignments the candidates are measured against
EXCLUDE_SHARE = 1 / 16  # ...none closer to one than this share of the hop


@dataclass(frozen=True)
class Grid:
    """One coder's transform: blocks of ``block`` samples every ``hop`` under ``window``."""

    codec: str
    block: int
    hop: int
    window: np.ndarray
    scan_windows: int = 6  # engine windows the scan reads (spread over the file; 0: no scan)
    confirm_step: int = 2  # every this-many-th block of an alignment is confirmed
    confirm_blocks: int = 40  # at most this many blocks per alignment and window
    high_hz: float = 20000.0  # coefficients above this are not counted (most coders stop below)
    confirm_windows: int = 12  # windows the confirmation reads (spread over the file)
    baseline: int = BASELINE  # alignments the candidates are measured against
    known: tuple[int, ...] = ()  # alignments always confirmed (where known decoders put the grid)
    mid_side: bool = False  # count mid and side too (coders that switch to them band by band)
    lattice: float = 0.0  # a mantissa-lattice step (16-bit steps) to test too (0: none); see lattice_sums
    repeats: int = 0  # confirm no block that repeats 1..repeats hops away (0: no check); see repeating
    congruent: tuple[int, ...] = ()  # shifts a candidate must also stand above (see measure)
    every_window: bool = True  # the z must hold with any one confirmed window left out (see measure)


def kbd_window(n: int, alpha: float) -> np.ndarray:
    """Kaiser-Bessel-derived window of length ``n`` (AC3: alpha 5, 512 samples)."""
    k = np.cumsum(np.kaiser(n // 2 + 1, np.pi * alpha))
    half = np.sqrt(k[:n // 2] / k[-1])
    return np.concatenate([half, half[::-1]])


def sine_window(n: int) -> np.ndarray:
    return np.sin(np.pi * (np.arange(n) + 0.5) / n)


def _channels(x: np.ndarray) -> list[np.ndarray]:
    """The channels a coder may have coded: left and right of a stereo window (mid and side
    are added from their coefficients), the mix of any other layout."""
    if x.shape[1] == 2:
        return [x[:, 0], x[:, 1]]
    return [x.mean(axis=1)]


def rows(grid: Grid) -> int:
    """How many count rows ``block_counts`` gives for ``grid``."""
    return 4 + (len(LATTICE_ROWS) if grid.lattice else 0)


def block_counts(blocks: list[np.ndarray], grid: Grid, sample_rate: int) -> np.ndarray:
    """(rows, B) per block, summed over left, right, mid and side (or the mix): active
    coefficients, near-zero ones among them, pairs of big ones, equal pairs among them, and
    where the grid has a lattice, ``lattice_sums``. ``blocks`` holds one (B, block) array per
    channel, in 16-bit steps."""
    coefs = np.stack([mdct(b, grid.window) for b in blocks])  # (channels, B, hop)
    if len(blocks) == 2 and grid.mid_side:
        coefs = np.concatenate([coefs, ((coefs[0] + coefs[1]) * 0.5)[None], ((coefs[0] - coefs[1]) * 0.5)[None]])
    lo = int(LOW_HZ / (sample_rate / 2) * grid.hop)
    hi = min(grid.hop, int(grid.high_hz / (sample_rate / 2) * grid.hop))
    counts = lean_counts(coefs, lo, hi).sum(axis=1)
    if not grid.lattice:
        return counts
    return np.concatenate([counts, lattice_sums(coefs[..., 1:hi], grid.lattice).sum(axis=1)])


# Rows of ``lattice_sums``: the weight, the weighted cosines at the step and at half of it,
# the sum of squared weights.
LATTICE_ROWS = ("weight", "cos", "cos_half", "weight2")
LATTICE_FROM, LATTICE_FULL = 4.0, 8.0  # a coefficient counts from this many steps, fully from this many


def lattice_sums(coefs: np.ndarray, step: float) -> np.ndarray:
    """(4, ...) per row of ``coefs`` (last axis: coefficients, in 16-bit steps): how near
    the coefficients sit to multiples of ``step`` and of ``step / 2``, as weighted sums of
    cos(2 pi |c| / step) and cos(4 pi |c| / step). A coder that scales quantised mantissas by
    powers of two (AC3's exponents) leaves each coefficient it coded with a step of ``step``
    or more on that lattice, up to the decode's rounding (0.29 steps RMS: the cosine keeps
    81% at 2.83 steps, 38% at 1.41); in any other audio the phase is uniform and the sums are
    chance. The weight rises from 0 at LATTICE_FROM steps to 1 at LATTICE_FULL, so that a
    smooth distribution of sizes gives nothing either (a coefficient near zero sits on
    every lattice)."""
    steps = np.abs(coefs) * np.float32(1 / step)
    span = LATTICE_FULL - LATTICE_FROM
    w = np.clip(steps * np.float32(1 / span) - np.float32(LATTICE_FROM / span), 0, 1)
    steps -= np.rint(steps)  # the phase, reduced first: a cosine of a small argument is cheap
    c1 = np.cos(steps * np.float32(2 * np.pi))
    wc = w * c1
    out = np.empty((4,) + coefs.shape[:-1])
    out[0] = w.sum(axis=-1)
    out[1] = wc.sum(axis=-1)
    out[2] = 2 * np.einsum("...i,...i->...", wc, c1) - out[0]  # cos(2x) = 2 cos(x)^2 - 1
    out[3] = np.einsum("...i,...i->...", w, w)
    return out


def lean_counts(coefs: np.ndarray, lo: int, hi: int, span: int = EQUAL_SPAN) -> np.ndarray:
    """(4, ...) per row of ``coefs`` (last axis: coefficients in 16-bit steps), from
    coefficient ``lo`` to ``hi``: active coefficients (in groups of GROUP whose RMS reaches
    ACTIVE_LSB), near-zero ones among them (under SMALL_LSB), pairs at most ``span`` apart
    of coefficients both at least EQUAL_MIN_LSB, and equal ones among those (sizes within
    EQUAL_LSB). The cheap counterpart of ``stats.near_zero_counts`` and ``mp3.line_counts``."""
    width = (hi - lo) // GROUP * GROUP
    mag = np.abs(coefs[..., lo:lo + width])
    groups = mag.reshape(*mag.shape[:-1], width // GROUP, GROUP)
    active = np.einsum("...i,...i->...", groups, groups) > GROUP * ACTIVE_LSB ** 2
    small = (groups < SMALL_LSB).sum(axis=-1)
    out = np.empty((4,) + mag.shape[:-1])
    out[0] = active.sum(axis=-1) * GROUP
    out[1] = (small * active).sum(axis=-1)
    big = mag >= EQUAL_MIN_LSB
    pairs = np.zeros(mag.shape[:-1])
    equal = np.zeros(mag.shape[:-1])
    for d in range(1, span + 1):
        both = big[..., :-d] & big[..., d:]
        pairs += both.sum(axis=-1)
        equal += (both & (np.abs(mag[..., :-d] - mag[..., d:]) < EQUAL_LSB)).sum(axis=-1)
    out[2], out[3] = pairs, equal
    return out


def scan(samples: np.ndarray, starts: list[int], sample_rate: int, grid: Grid) -> np.ndarray:
    """(rows, hop) counts (see ``block_counts``) per file alignment mod hop, from the first
    ``block + hop - 1`` samples of up to ``grid.scan_windows`` windows."""
    counts = np.zeros((rows(grid), grid.hop))
    n = grid.block + grid.hop - 1
    if samples.shape[1] < n:
        return counts
    pick = spread_windows(len(samples), grid.scan_windows)
    for i in pick:
        x = samples[i, :n].astype(np.float32) / np.float32(LSB)
        blocks = [sliding_window_view(c, grid.block) for c in _channels(x)]
        c = block_counts(blocks, grid, sample_rate)
        at = (int(starts[i]) + np.arange(c.shape[1])) % grid.hop
        for row in range(len(counts)):
            counts[row] += np.bincount(at, c[row], grid.hop)
    return counts


def _robust(share: np.ndarray) -> np.ndarray:
    med = np.median(share)
    mad = 1.4826 * np.median(np.abs(share - med))
    return (share - med) / max(mad, 1e-9)


def candidate(counts: np.ndarray) -> int:
    """The alignment whose near-zero and equal-pair shares (and lattice cosines, where
    counted) together stand highest."""
    zero = counts[1] / np.maximum(counts[0], 1)
    equal = counts[3] / np.maximum(counts[2], 1)
    score = _robust(zero) + _robust(equal)
    if len(counts) > 4:
        score += _robust(counts[5] / np.maximum(counts[4], 1))
    return int(np.argmax(score))


def baseline(hop: int, candidates: list[int], count: int = BASELINE) -> np.ndarray:
    """``count`` alignments spread over the hop, none closer than ``hop * EXCLUDE_SHARE`` to
    a candidate."""
    exclude = max(2, int(round(hop * EXCLUDE_SHARE)))
    spread = (candidates[0] + np.round(np.linspace(0, hop, 4 * BASELINE, endpoint=False)).astype(int)) % hop
    c = np.array(candidates)
    dist = np.abs((spread[:, None] - c[None, :] + hop // 2) % hop - hop // 2).min(axis=1)
    far = spread[dist >= exclude]
    return far[np.round(np.linspace(0, len(far) - 1, count)).astype(int)]


def confirm(samples: np.ndarray, starts: list[int], sample_rate: int, grid: Grid,
            aligns: np.ndarray) -> np.ndarray:
    """(windows, rows, len(aligns)) counts at each alignment, per window read, from the samples
    after the scan's (``confirm_windows`` windows, every ``confirm_step``-th block, at most
    ``confirm_blocks`` blocks of each alignment)."""
    per_window = []
    first = grid.block + grid.hop - 1
    length = samples.shape[1]
    pick = spread_windows(len(samples), grid.confirm_windows)
    for i in pick:
        x, start = samples[i], starts[i]
        s0 = first + (aligns - int(start) - first) % grid.hop  # first block start of each alignment
        frames = (length - grid.block - s0.max()) // grid.hop + 1
        if frames < 1:
            continue
        k = np.arange(0, frames, grid.confirm_step)[:grid.confirm_blocks]
        idx = (s0[:, None] + grid.hop * k[None, :]).ravel()
        y = x.astype(np.float32) / np.float32(LSB)
        blocks = [sliding_window_view(c, grid.block)[idx] for c in _channels(y)]
        c = block_counts(blocks, grid, sample_rate)
        if grid.repeats:
            c[:, repeating(y, idx, grid)] = 0
        per_window.append(c.reshape(rows(grid), len(aligns), len(k)).sum(axis=2))
    return np.stack(per_window) if per_window else np.zeros((0, rows(grid), len(aligns)))


REPEAT_STRIDE = 4  # a block repeats (stats.REPEAT_LSB) judged on every this-many-th sample


def repeating(y: np.ndarray, idx: np.ndarray, grid: Grid) -> np.ndarray:
    """Which blocks (first samples ``idx`` in window ``y``, in 16-bit steps) repeat: their
    samples come back, to within REPEAT_LSB RMS, 1 to ``grid.repeats`` hops later (or
    earlier, where the window ends first). A signal periodic in a whole number of hops (a
    square wave of 64 or 512 samples, a test tone) gives the same block again and again at
    each alignment, so whatever one alignment shows (exact zeros where the waveform is
    symmetric) it shows in every block: that is the waveform, not chance, and not a coder.
    Those blocks are not counted."""
    lo, hi = int(idx.min()), int(idx.max()) + grid.block
    lags = np.arange(1, grid.repeats + 1) * grid.hop
    lags = np.where(hi + lags <= len(y), lags, -lags)
    lags = lags[(lo + lags >= 0) & (hi + lags <= len(y))]
    if not len(lags):
        return np.zeros(len(idx), bool)
    step = REPEAT_STRIDE
    span = y[lo:hi:step].reshape(-1, y.size // len(y))
    diff = np.stack([span - y[lo + d:hi + d:step].reshape(span.shape) for d in lags])  # (lags, samples, channels)
    energy = np.zeros((len(lags), len(span) + 1))
    np.cumsum(np.einsum("lsc,lsc->ls", diff, diff), axis=1, out=energy[:, 1:])
    first = (idx - lo + step - 1) // step  # the judged samples of each block
    per_sample = (energy[:, first + grid.block // step] - energy[:, first]) / (grid.block // step * span.shape[1])
    return (per_sample < REPEAT_LSB ** 2).any(axis=0)


def grid_z(counts: np.ndarray, column: int, base: slice) -> float:
    """The larger of the near-zero and equal-pair z of alignment ``column`` over the
    ``base`` columns (NaN when it has fewer than MIN_ACTIVE of both)."""
    out = []
    for a, s in ((0, 1), (2, 3)):
        n = counts[a, column]
        if n < MIN_ACTIVE or counts[a, base].min() < MIN_ACTIVE:
            continue
        share = counts[s] / np.maximum(counts[a], 1)
        out.append(chance_z(float(share[column]), share[base], float(n)))
    return max(out) if out else float("nan")


def lattice_z(counts: np.ndarray, column: int, base: slice) -> float:
    """The larger of the lattice z (at the step and at half of it) of alignment ``column``
    over the ``base`` columns: how far its weighted mean cosine stands above theirs, in
    their spread, floored by the spread chance gives a mean of that many weights (uniform
    phases: sqrt(sum w^2 / 2) / sum w). NaN without lattice rows or with under MIN_ACTIVE
    weight."""
    if len(counts) <= 4:
        return float("nan")
    weight, weight2 = counts[4], counts[7]
    if weight[column] < MIN_ACTIVE or weight[base].min() < MIN_ACTIVE:
        return float("nan")
    floor = float(np.sqrt(weight2[column] / 2) / weight[column])
    out = []
    for row in (5, 6):
        share = counts[row] / weight
        out.append(float((share[column] - share[base].mean()) / max(float(share[base].std()), floor)))
    return max(out)


def measure(samples: np.ndarray, starts: list[int], sample_rate: int, grid: Grid) -> tuple[float, int | None]:
    """(z, alignment): the best of the scan's candidate and the grid's ``known`` alignments
    (mod hop, from the file's first sample) and how far it stands above the baseline in the
    confirmation; (NaN, None) when the windows are too short or too quiet to count."""
    if samples is None or len(samples) == 0 or samples.shape[1] < 2 * (grid.block + grid.hop):
        return float("nan"), None
    found = []
    if grid.scan_windows > 0:
        counts = scan(samples, starts, sample_rate, grid)
        found = [candidate(counts)] if counts[0].max() > 0 else []
    candidates = list(dict.fromkeys([*grid.known, *found]))
    if not candidates:
        return float("nan"), None
    base_aligns = baseline(grid.hop, candidates, grid.baseline)
    # Every candidate must also stand above its own alignment shifted by ``grid.congruent``:
    # a waveform periodic in a divisor of the hop (a square wave of 32 to 512 samples under
    # the music) shows its equal pairs or its exact zeros at every alignment that shift away
    # (the known one included), a coder at one.
    shifted = [[(a + s) % grid.hop for s in grid.congruent] for a in candidates]
    aligns = np.concatenate([candidates, base_aligns, *[np.array(s, int) for s in shifted]]).astype(int)
    per_window = confirm(samples, starts, sample_rate, grid, aligns)
    confirmed = per_window.sum(axis=0)
    base = slice(len(candidates), len(candidates) + len(base_aligns))

    def z_of(counts: np.ndarray, column: int) -> float:
        return float(np.nanmax([grid_z(counts, column, base), lattice_z(counts, column, base), -np.inf]))

    def z_at(column: int) -> float:
        # With ``every_window``: the lowest z left when one window is taken out. A coder writes
        # its grid in every window; one odd stretch of music (a quiet decay whose few big
        # coefficients pair up at one alignment) must not carry the whole file's share. What is
        # left may be too little to measure (a file of two windows): that says nothing either way.
        z = z_of(confirmed, column)
        if grid.every_window and len(per_window) > 1:
            left = [z_of(confirmed - w, column) for w in per_window]
            z = min([z, *(v for v in left if v > -np.inf)])
        return z

    best = (float("nan"), None)
    column = len(candidates) + len(base_aligns)
    for i, alignment in enumerate(candidates):
        z = z_at(i)
        if shifted[i]:
            others = [z_of(confirmed, c) for c in range(column, column + len(shifted[i]))]
            column += len(shifted[i])
            z -= max([0.0, *[o for o in others if np.isfinite(o)]])
        if np.isfinite(z) and not best[0] >= z:
            best = (z, int(alignment))
    return best

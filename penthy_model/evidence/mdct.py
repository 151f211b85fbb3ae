"""Codec frame grids: whether a file's samples were decoded from AAC or Vorbis.

AAC and Vorbis cut the signal into overlapping blocks of 2048 samples (at 44.1 and 48 kHz),
transform each with an MDCT under a window of their own, and store the coefficients
quantised. Even at high bit rates many coefficients inside the music's band are rounded
to zero. A decoder rebuilds the samples from those coefficients exactly, up to rounding.
So if a decoded file is cut again where the encoder cut it, with the encoder's window, the
zeroed coefficients come back as nothing but the rounding noise of the decode (under one
16-bit step), between neighbours that carry music. At any other alignment, and in genuine
audio at every alignment, such near-zero coefficients are only as common as chance makes
them. This needs no sound above 16 kHz: it is the evidence for the transcodes of sparse
music that the spectrogram model cannot judge.

Where the grid lies depends on how many priming samples the encoder put before the music
and the decoder removed: AAC encoders prime by 1024 or 2048 samples (grid at 0 mod 1024),
Apple's by 2112 (960) and Nero's by 2624 (448); a Vorbis stream's long blocks fall at 64
mod 128 after its first short blocks, and may move by 128 after a run of short blocks. Only
those alignments are tested, against 8 to 12 others that no codec here uses. An encoder may
put its blocks at the other's alignment (FFmpeg's own Vorbis encoder at AAC's 0): a grid is
named by the steps its quantiser leaves in the coefficients' sizes (:mod:`.quantiser`).
A stereo coder codes mid and side (joint stereo) or left and right on their own, band by
band, so the zeros are only exact in the channels it coded: each of the four is tested.
MP3's hybrid filter bank is not an MDCT of the signal: :mod:`.mp3` looks for its grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .stats import LOW_HZ, LSB, MIN_ACTIVE, REVIEW_Z, chance_z, near_zero_counts, spread_windows

BLOCK = 2048  # long-block length of AAC-LC and of Vorbis at 44.1/48 kHz
HOP = BLOCK // 2
SCREEN_WINDOWS = 3  # windows read first, spread over the track...
SCREEN_SAMPLES = 8191  # ...this many samples of each (3 blocks at every alignment), then the others'
SCREEN_CHUNKS = 3  # "absent" is believed only after this many stretches (or every window's)...
SCREEN_ACTIVE = 5 * MIN_ACTIVE  # ...with this many active coefficients at every alignment (per channel)
N_BASELINE = 16  # alignments no codec uses, cut to measure chance...
SHAPE_BASELINE = {"kbd": 8, "sine": 8, "vorbis": 12}  # ...of them, per window shape (Vorbis's draws 8)
N_DRAWS = 24  # sets of baseline alignments drawn to measure chance
FRAME_STEP = 2  # every other block of a window is enough
SHIFTED = (32, 64, 128, 256, 512, -32, -64, -128, -256)  # a codec at REVIEW_Z must stand above these shifts
EVERY_WINDOW = True  # ...and hold with any one window left out (as mdctgrid's ``Grid.every_window``)


def _kbd(n: int, alpha: float = 4.0) -> np.ndarray:
    """Kaiser-Bessel-derived window (AAC's other window shape)."""
    k = np.cumsum(np.kaiser(n // 2 + 1, np.pi * alpha))
    half = np.sqrt(k[:n // 2] / k[-1])
    return np.concatenate([half, half[::-1]])


_t = (np.arange(BLOCK) + 0.5) / BLOCK
WINDOWS = {
    "sine": np.sin(np.pi * _t),
    "kbd": _kbd(BLOCK),
    "vorbis": np.sin(0.5 * np.pi * np.sin(np.pi * _t) ** 2),
}


@dataclass(frozen=True)
class Codec:
    name: str
    windows: tuple[str, ...]
    offsets: tuple[int, ...]  # where a block may start, in samples mod HOP from the file's start
    moves: bool  # whether the grid may move among those offsets within a window


CODECS = (
    Codec("AAC", ("kbd", "sine"), (0, 448, 960), moves=False),
    Codec("Vorbis", ("vorbis",), tuple(range(64, HOP, 128)), moves=True),
)
_USED = {o for c in CODECS for o in c.offsets}
BASELINE = tuple(int(o) for o in np.random.default_rng(0).choice(
    [o for o in range(HOP) if all(abs(o - u) > 8 for u in _USED)], N_BASELINE, replace=False))


_rng = np.random.default_rng(1)
_DRAWS = {(b, len(c.offsets)): np.array([_rng.choice(b, len(c.offsets), replace=False) for _ in range(N_DRAWS)])
          for c in CODECS for b in sorted(set(SHAPE_BASELINE.values()))}
# Every alignment a window is cut at (the baseline first, then each codec's), and per window
# shape the codecs that use it and the rows of those alignments it is applied to.
_OFFSETS = np.array(BASELINE + tuple(o for c in CODECS for o in c.offsets))
_AT = {o: i for i, o in enumerate(_OFFSETS.tolist())}
_BY_WINDOW = {name: ([c for c in CODECS if name in c.windows],
                     np.array(list(range(SHAPE_BASELINE[name]))
                              + [_AT[o] for c in CODECS if name in c.windows for o in c.offsets]))
              for name in WINDOWS}


@lru_cache(maxsize=4)
def _twiddles(n: int) -> tuple[np.ndarray, np.ndarray]:
    m, j = n // 2, np.arange(n // 4)
    return (np.exp(-1j * np.pi * (j + 0.25) / m).astype(np.complex64),
            (np.exp(-1j * np.pi * j / m) * np.sqrt(2.0 / m)).astype(np.complex64))


def mdct(blocks: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Orthonormal MDCT of each row of ``blocks`` (..., 2M) under ``window``: (..., M).

    Folded to a DCT-IV of length M and computed with a complex FFT of length M/2.
    """
    n = blocks.shape[-1]
    m, h = n // 2, n // 4
    pre, post = _twiddles(n)
    x = blocks * window.astype(np.float32)
    a, b, c, d = x[..., :h], x[..., h:m], x[..., m:m + h], x[..., m + h:]
    u = np.concatenate([-c[..., ::-1] - d, a - b[..., ::-1]], axis=-1)
    y = np.fft.fft((u[..., 0::2] + 1j * u[..., ::-1][..., 0::2]) * pre, axis=-1) * post
    out = np.empty(x.shape[:-1] + (m,), np.float32)
    out[..., 0::2] = y.real
    out[..., ::-1][..., 0::2] = -y.imag
    return out


def _blocks(x: np.ndarray, start: int, offsets: np.ndarray) -> np.ndarray:
    """(offsets, frames, BLOCK) blocks of window ``x`` (which starts at sample ``start`` of
    the file) that begin at each file offset mod HOP; every FRAME_STEP-th block only."""
    first = (offsets - start) % HOP
    frames = (len(x) - HOP + 1 - BLOCK) // HOP + 1
    rows = first[:, None] + HOP * np.arange(0, frames, FRAME_STEP)[None, :]
    return sliding_window_view(x, BLOCK)[rows]  # whole rows copied: a seventh of indexing each sample


def _best_shares(active: np.ndarray, small: np.ndarray, sets: np.ndarray, moves: bool) -> tuple[np.ndarray, np.ndarray]:
    """For each set of alignments (rows of ``sets``, indices into the rows of ``active`` and
    ``small``, which are alignments over the same blocks): the largest share of near-zero
    coefficients among active ones at one alignment of the set, or, when the grid ``moves``
    (Vorbis, after short blocks), at the set's best alignment in each block; and how many
    active coefficients that share is of."""
    if moves:
        a, s = active[sets], small[sets]  # (sets, k, blocks)
        pick = np.argmax(s / np.maximum(a, 1), axis=1)[:, None]
        n = np.take_along_axis(a, pick, 1)[:, 0].sum(axis=-1)
        return np.take_along_axis(s, pick, 1)[:, 0].sum(axis=-1) / np.maximum(n, 1), n
    a, s = active.sum(axis=1)[sets], small.sum(axis=1)[sets]  # (sets, k)
    pick = np.argmax(s / np.maximum(a, 1), axis=1)[:, None]
    n = np.take_along_axis(a, pick, 1)[:, 0]
    return np.take_along_axis(s, pick, 1)[:, 0] / np.maximum(n, 1), n


def _codec_z(active: np.ndarray, small: np.ndarray, codecs: list[Codec], baseline: int) -> dict[str, tuple[float, int]]:
    """Per codec: how many standard deviations the share of near-zero coefficients at its
    alignments (rows after the first ``baseline``) stands above the same measure at as many
    alignments drawn from the baseline, N_DRAWS times (NaN when too few coefficients are
    active), and the offset of its alignment with the largest share."""
    out, at = {}, baseline
    for c in codecs:
        k = len(c.offsets)
        sets = np.vstack([np.arange(at, at + k)[None], _DRAWS[baseline, k]])  # the codec's, then the draws
        share, n = _best_shares(active, small, sets, c.moves)
        a, s = active[at:at + k].sum(axis=1), small[at:at + k].sum(axis=1)
        offset = c.offsets[int(np.argmax(s / np.maximum(a, 1)))]
        at += k
        if n.min() < MIN_ACTIVE:
            out[c.name] = (float("nan"), offset)
            continue
        out[c.name] = (chance_z(float(share[0]), share[1:], float(n[0])), offset)
    return out


def with_mid_side(coefs: np.ndarray) -> np.ndarray:
    """Coefficients (channels first) of a stereo window's left and right with its mid and side
    after them (the MDCT is linear: theirs come from the left's and right's); any other
    layout as it is."""
    if len(coefs) != 2:
        return coefs
    return np.concatenate([coefs, (coefs[:1] + coefs[1:]) * 0.5, (coefs[:1] - coefs[1:]) * 0.5])


def chunk_counts(x: np.ndarray, start: int, sample_rate: int, offsets: np.ndarray | None = None,
                 shapes=None) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """For a stretch (length, channels) in 16-bit steps that starts at sample ``start`` of
    the file, per window shape: active and near-zero coefficients (``near_zero_counts``),
    each (channels, alignments, blocks), in left, right, mid and side (a stereo stretch; the
    MDCT is linear, so mid and side are taken from the left and right coefficients) or in
    its mix. None when the stretch holds no block. By default each shape is applied at the
    baseline alignments and those of the codecs using it (the detector's rows); with
    ``offsets`` (file alignments mod HOP), every shape in ``shapes`` (default: all) at all
    of them."""
    if len(x) < BLOCK + HOP - 1:
        return None
    lo = int(LOW_HZ / (sample_rate / 2) * HOP)
    mixes = [x[:, 0], x[:, 1]] if x.shape[1] == 2 else [x.mean(axis=1)]
    at = _OFFSETS if offsets is None else np.asarray(offsets)
    blocks = np.stack([_blocks(np.asarray(m, np.float32), start, at) for m in mixes])
    if offsets is None:
        plan = {name: rows for name, (_, rows) in _BY_WINDOW.items()}
    else:
        plan = {name: slice(None) for name in (shapes or WINDOWS)}
    out = {}
    for name, rows in plan.items():
        out[name] = near_zero_counts(with_mid_side(mdct(blocks[:, rows], WINDOWS[name])), lo)
    return out


def pooled_z(counts: dict[str, list], channels: tuple[str, ...]) -> dict[str, tuple[float, int, str, str]]:
    """Per codec, from the counts of every stretch read (per window shape, lists of
    ``chunk_counts``): the largest ``_codec_z`` over its window shapes and the channels a
    coder may have coded on their own, with its alignment, channel and window shape."""
    best = {c.name: (float("nan"), -1, "", "") for c in CODECS}
    for name, (codecs, _) in _BY_WINDOW.items():
        if not counts[name]:
            continue
        active = np.concatenate([a for a, _ in counts[name]], axis=-1)
        small = np.concatenate([s for _, s in counts[name]], axis=-1)
        for i, channel in enumerate(channels):
            for codec, (z, offset) in _codec_z(active[i], small[i], codecs, SHAPE_BASELINE[name]).items():
                if np.isfinite(z) and not best[codec][0] >= z:
                    best[codec] = (z, offset, channel, name)
    return best


def shifted_counts(samples: np.ndarray, starts, sample_rate: int, codec: Codec, offset: int, channel: int,
                   shape: str) -> tuple[np.ndarray, np.ndarray, int]:
    """For ``shifted_z``: per window, the active and near-zero coefficients of ``channel``
    under ``shape`` at the shape's baseline, ``offset`` and ``offset`` shifted by SHIFTED,
    on every block: (active, small), each (windows, alignments), and how many of those
    alignments are the baseline. A grid that moves may use its codec's other alignments, so
    those are left out of the shifts; AAC's three belong to different coders and are never
    lifted together."""
    own = codec.offsets if codec.moves else (offset,)  # a grid that moves may use its others
    shifts = [(offset + d) % HOP for d in SHIFTED]
    shifts = [a for a in dict.fromkeys(shifts) if all(abs(a - o) > 8 for o in own)]
    base = list(BASELINE[:SHAPE_BASELINE[shape]])
    at = np.array(base + [offset] + shifts)
    active = np.zeros((len(samples), len(at)))
    small = np.zeros((len(samples), len(at)))
    for i, (x, start) in enumerate(zip(samples, starts)):
        found = chunk_counts(x.astype(np.float32) / np.float32(LSB), int(start), sample_rate, at, (shape,))
        if found is not None:
            a, s = found[shape]
            active[i], small[i] = a[channel].sum(axis=-1), s[channel].sum(axis=-1)
    return active, small, len(base)


def shifted_z(active: np.ndarray, small: np.ndarray, baseline: int) -> tuple[float, float]:
    """From ``shifted_counts``' totals (alignments: ``baseline`` of them, the offset, its
    shifts): the z of the offset and the largest z among its shifts, both over the baseline.
    A coder's grid stands at one alignment, while a wave under the music whose period shares
    a power of two with the hop (a pulse of 128 or 1024 samples) lifts every alignment a
    period away, or every one its edges fall on."""
    if len(active) <= baseline + 1 or active.min() < MIN_ACTIVE:
        return float("nan"), float("nan")
    share = small / active
    z = [chance_z(float(share[i]), share[:baseline], float(active[i])) for i in range(baseline, len(active))]
    return z[0], max(z[1:])


def _less_shifts(z: float, own: float, other: float) -> float:
    """``z`` less the share of the candidate's excess (``own``) a shift shows too (``other``)."""
    if np.isfinite(other) and own > 0:
        return z * (1.0 - min(1.0, max(0.0, other) / own))
    return z


def _left_out(counts: dict[str, list], owner: dict[str, list], window: int) -> dict[str, list]:
    """``counts`` (per window shape, each stretch's) without the stretches of ``window``."""
    return {name: [k for k, o in zip(counts[name], owner[name]) if o != window] for name in counts}


def _windows_to_leave_out(used: np.ndarray) -> np.ndarray:
    """The windows read (``used``) that are each left out once to check a grid (EVERY_WINDOW):
    none where only one was read."""
    return np.flatnonzero(used) if EVERY_WINDOW and used.sum() > 1 else np.zeros(0, int)


def _held_with_any_window_out(counts, owner, used, channels, best, level: float) -> dict[int, dict] | None:
    """Whether each codec of ``best`` (``pooled_z``'s) at ``level`` or more stays there with
    any one window read left out: then ``pooled_z`` of each such read, by the window left out
    (none where no window is checked), else None."""
    codecs = [name for name, (z, *_) in best.items() if z >= level]
    reads = {}
    for i in _windows_to_leave_out(used):
        reads[i] = pooled_z(_left_out(counts, owner, i), channels)
        if not all(reads[i][name][0] >= level for name in codecs):
            return None
    return reads


def mdct_z(samples: np.ndarray, starts, sample_rate: int, clear_z: float = np.inf,
           absent_z: float = -np.inf, thorough: bool = False) -> tuple[dict[str, tuple[float, int, str, str]], int]:
    """Per codec (z, alignment, channel) for windows ``samples`` (W, length, channels) float
    in [-1, 1] that start at ``starts``, and how many windows had sound to count.

    The first SCREEN_SAMPLES of each window are read first (SCREEN_WINDOWS spread over the
    track before the others), then the rest of each; unless ``thorough``, reading stops once
    a codec stands at ``clear_z`` or more with any one window read left out, or every codec is
    under ``absent_z`` after SCREEN_CHUNKS stretches with SCREEN_ACTIVE active coefficients at
    every alignment. A codec at REVIEW_Z or more keeps the least of its z less what its shifted
    alignments show (``shifted_z``) on every window read, and the same with any one window left
    out: a coder writes its grid in every window, and one odd stretch must not carry the file."""
    w = len(samples)
    channels = ("left", "right", "mid", "side") if samples.shape[2] == 2 else ("mix",)
    counts: dict[str, list] = {name: [] for name in _BY_WINDOW}
    owner: dict[str, list] = {name: [] for name in _BY_WINDOW}  # the window each stretch's counts came from
    used = np.zeros(w, bool)
    left_out: dict[int, dict] = {}  # pooled_z with each window left out, each worked out once
    spread = spread_windows(w, SCREEN_WINDOWS).tolist()
    order = list(dict.fromkeys(spread + list(range(w))))
    rest = SCREEN_SAMPLES - SCREEN_SAMPLES % HOP  # no block of the screen starts there or later
    chunks = [(i, 0, SCREEN_SAMPLES) for i in order] + [(i, rest, samples.shape[1]) for i in order]
    for n, (i, lo, hi) in enumerate(chunks, 1):
        found = chunk_counts(samples[i, lo:hi].astype(np.float32) / np.float32(LSB), int(starts[i]) + lo, sample_rate)
        if found is None:
            continue
        for name, c in found.items():
            counts[name].append(c)
            owner[name].append(i)
            used[i] |= bool(c[0].any())
        if thorough or n < len(spread):
            continue
        best = pooled_z(counts, channels)
        zs = [z for z, _, _, _ in best.values()]
        if any(z >= clear_z for z in zs):
            held = _held_with_any_window_out(counts, owner, used, channels, best, clear_z)
            if held is not None:
                left_out = held  # pooled on the counts read: the check below reuses them
                break  # (where one window carries it so far, read on)
        enough = n >= min(SCREEN_CHUNKS, w) and all(
            sum(a.sum(axis=(0, -1)) for a, _ in counts[name]).min() >= SCREEN_ACTIVE * len(channels) for name in counts)
        if enough and all(not z >= absent_z for z in zs):
            break
    best = pooled_z(counts, channels)
    for c in CODECS:
        z, offset, channel, shape = best[c.name]
        if z >= REVIEW_Z:  # the share of the candidate's excess a shift shows too is taken off
            at = channels.index(channel)
            active, small, nb = shifted_counts(samples, starts, sample_rate, c, offset, at, shape)
            z = _less_shifts(z, *shifted_z(active.sum(axis=0), small.sum(axis=0), nb))
            # and the grid must hold with any one window left out, as a coder writes it in every window
            for i in _windows_to_leave_out(used):
                if i not in left_out:  # (pooled once for every codec)
                    left_out[i] = pooled_z(_left_out(counts, owner, i), channels)
                left = left_out[i][c.name][0]
                rest = np.arange(len(samples)) != i
                left = _less_shifts(left, *shifted_z(active[rest].sum(axis=0), small[rest].sum(axis=0), nb))
                if np.isfinite(left):
                    z = min(z, left)
            best[c.name] = (z, offset, channel, shape)
    return best, int(used.sum())


def measure(samples: np.ndarray, starts, sample_rate: int, clear_z: float = np.inf,
            absent_z=None, thorough: bool = False, requires=None) -> list:
    """The detector (see :mod:`penthy_model.evidence`): one measure per codec, named by the
    alignment and window that found its grid; a grid at REVIEW_Z or more also carries both
    quantisers' lattices there (``quantiser.at_grid``), and WMA's and AAC's ratio marks where
    the rate gives WMA the same frame (``quantiser.ratios_at_grid``), by which the policy may
    name another codec."""
    from . import CodecMeasure
    from .quantiser import at_grid, ratios_at_grid

    absent = -np.inf if absent_z is None else min(absent_z[c.name.lower()] for c in CODECS)
    best, windows = mdct_z(samples, starts, sample_rate, clear_z, absent, thorough)
    out = []
    for name, (z, offset, channel, shape) in best.items():
        if not np.isfinite(z):
            out.append(CodecMeasure(name.lower(), float("nan"), None, windows, ""))
            continue
        lattices, ratios = {}, {}
        if z >= REVIEW_Z:
            lattices = at_grid(name, samples, starts, offset, shape)
            ratios = ratios_at_grid(samples, starts, offset, sample_rate)
        out.append(CodecMeasure(name.lower(), z, offset if offset >= 0 else None, windows, channel,
                                lattices=tuple((codec.lower(), v) for codec, v in lattices.items()),
                                ratios=tuple((codec.lower(), v) for codec, v in ratios.items())))
    return out

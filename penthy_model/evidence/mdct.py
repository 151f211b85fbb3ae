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
those alignments are tested, against 16 others that no codec here uses, in each window.
A stereo coder codes mid and side (joint stereo) or left and right on their own, band by
band, so the zeros are only exact in the channels it coded: each of the four is tested.
MP3's hybrid filter bank is not an MDCT of the signal: :mod:`.mp3` looks for its grid.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .stats import LOW_HZ, LSB, MIN_ACTIVE, chance_z, near_zero_counts

BLOCK = 2048  # long-block length of AAC-LC and of Vorbis at 44.1/48 kHz
HOP = BLOCK // 2
GRID_WINDOWS = 3  # windows needed for a finding
N_BASELINE = 16
N_DRAWS = 24  # sets of baseline alignments drawn to measure chance
FRAME_STEP = 2  # every other block of a window is enough


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
_DRAWS = {len(c.offsets): [_rng.choice(N_BASELINE, len(c.offsets), replace=False) for _ in range(N_DRAWS)]
          for c in CODECS}
# Every alignment a window is cut at (the baseline first, then each codec's), and per window
# shape the codecs that use it and the rows of those alignments it is applied to.
_OFFSETS = np.array(BASELINE + tuple(o for c in CODECS for o in c.offsets))
_AT = {o: i for i, o in enumerate(_OFFSETS.tolist())}
_BY_WINDOW = {name: ([c for c in CODECS if name in c.windows],
                     np.array(list(range(N_BASELINE)) + [_AT[o] for c in CODECS if name in c.windows for o in c.offsets]))
              for name in WINDOWS}


@dataclass
class GridFinding:
    codec: str  # "AAC", "Vorbis" or "MP3"
    z: float  # how far the coder's alignment stands above the others (see each test)
    windows: int  # windows judged
    channel: str = "mid"  # the channel that shows it, or "left, right, mid and side" together

    @property
    def where(self) -> str:
        return f"{self.channel} channels" if " and " in self.channel else f"{self.channel} channel"


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
    idx = first[:, None, None] + HOP * np.arange(0, frames, FRAME_STEP)[None, :, None] + np.arange(BLOCK)
    return x[idx]


def _best_share(active: np.ndarray, small: np.ndarray, moves: bool) -> tuple[float, int]:
    """For a set of alignments (rows) over the same blocks (columns): the largest share of
    near-zero coefficients among active ones at one alignment, or, when the grid ``moves``
    (Vorbis, after short blocks), at the best alignment of each block; and how many active
    coefficients that share is of."""
    if moves:
        pick = np.argmax(small / np.maximum(active, 1), axis=0)
        cols = np.arange(active.shape[1])
        n = int(active[pick, cols].sum())
        return small[pick, cols].sum() / max(n, 1), n
    a, s = active.sum(axis=1), small.sum(axis=1)
    best = int(np.argmax(s / np.maximum(a, 1)))
    return s[best] / max(int(a[best]), 1), int(a[best])


def _codec_z(active: np.ndarray, small: np.ndarray, codecs: list[Codec]) -> dict[str, float]:
    """Per codec: how many standard deviations the share of near-zero coefficients at its
    alignments (rows after the baseline's) stands above the same measure at as many
    alignments drawn from the baseline (NaN when too few coefficients are active)."""
    out, at = {}, N_BASELINE
    for c in codecs:
        k = len(c.offsets)
        share, n = _best_share(active[at:at + k], small[at:at + k], c.moves)
        at += k
        null = [_best_share(active[d], small[d], c.moves) for d in _DRAWS[k]]
        null_share = np.array([v for v, _ in null])
        if n < MIN_ACTIVE or min(m for _, m in null) < MIN_ACTIVE:
            out[c.name] = float("nan")
            continue
        out[c.name] = chance_z(share, null_share, n)
    return out


def window_z(x: np.ndarray, start: int, sample_rate: int) -> dict[tuple[str, str], float]:
    """For one window (length, channels) in 16-bit steps: per codec and channel, its z (see
    ``_codec_z``; the best over the codec's window shapes). A stereo window is judged in
    mid, side, left and right (the MDCT is linear, so mid and side are taken from the left
    and right coefficients); any other layout in its mix."""
    lo = int(LOW_HZ / (sample_rate / 2) * HOP)
    if x.shape[1] == 2:
        blocks = {"left": _blocks(x[:, 0].astype(np.float32), start, _OFFSETS),
                  "right": _blocks(x[:, 1].astype(np.float32), start, _OFFSETS)}
    else:
        blocks = {"mix": _blocks(x.mean(axis=1).astype(np.float32), start, _OFFSETS)}
    out: dict[tuple[str, str], float] = {}
    for name, (codecs, rows) in _BY_WINDOW.items():
        coefs = {channel: mdct(b[rows], WINDOWS[name]) for channel, b in blocks.items()}
        if len(coefs) == 2:
            left, right = coefs["left"], coefs["right"]
            coefs["mid"], coefs["side"] = (left + right) * 0.5, (left - right) * 0.5
        for channel, c in coefs.items():
            for codec, z in _codec_z(*near_zero_counts(c, lo), codecs).items():
                before = out.get((codec, channel), float("nan"))
                out[codec, channel] = float(z if np.isnan(before) or z > before else before)
    return out


def grid_z(samples: np.ndarray, starts: list[int], sample_rate: int) -> dict[str, tuple[float, int, str]]:
    """Per codec: the largest, over the channels a coder may have coded on their own (mid
    and side for joint stereo, left and right), of the median z over the windows that could
    be judged in that channel (a channel needs GRID_WINDOWS of them), with how many windows
    and which channel (NaN, 0, "" with none). ``samples`` is (W, length, channels) float in
    [-1, 1], ``starts`` each window's first sample in the file."""
    zs: dict[tuple[str, str], list[float]] = defaultdict(list)
    if samples.shape[1] >= BLOCK + HOP:
        for block, start in zip(samples, starts):
            for key, z in window_z(block.astype(np.float64) / LSB, int(start), sample_rate).items():
                if np.isfinite(z):
                    zs[key].append(z)
    best = {c.name: (float("nan"), 0, "") for c in CODECS}
    for (name, channel), v in zs.items():
        z = float(np.median(v))
        if len(v) >= GRID_WINDOWS and not best[name][0] >= z:
            best[name] = (z, len(v), channel)
    return best


def find_grid(samples: np.ndarray, starts: list[int], sample_rate: int, min_z: float) -> GridFinding | None:
    """The codec whose frame grid at least GRID_WINDOWS windows of one channel show with a
    median z of at least ``min_z`` (``grid_z`` counts only such channels), or None."""
    found = [GridFinding(name, z, n, channel) for name, (z, n, channel) in grid_z(samples, starts, sample_rate).items()
             if z >= min_z]
    return max(found, key=lambda f: f.z) if found else None


def measure(samples: np.ndarray, starts, sample_rate: int, clear_z: float = float("inf")) -> list:
    """The detector (see :mod:`penthy_model.evidence`): one measure per codec."""
    from . import CodecMeasure

    return [CodecMeasure(name.lower(), z, None, n, channel)
            for name, (z, n, channel) in grid_z(samples, list(starts), sample_rate).items()]

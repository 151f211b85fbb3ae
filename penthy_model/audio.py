"""Reading the windows a verdict rests on, and nothing more of the file.

A file is never decoded whole: :func:`read_windows` seeks to up to ``MAX_WINDOWS``
positions spread over the track and reads one window at each, so memory and time do not
grow with the track's length. Integer PCM is read as int32 (left-justified), which keeps
the exact bits for the bit-depth check, and converted to float once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import soundfile as sf

from .constants import MAX_WINDOWS, SILENCE_DBFS
from .features import window_length

INT_SUBTYPES = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32}
_INT_SCALE = np.float32(1.0 / 2**31)
_SILENCE_POWER = 10.0 ** (SILENCE_DBFS / 10.0)


@dataclass
class Windows:
    """Windows read from one file, plus what the container says about it."""

    sample_rate: int
    channels: int
    frames: int  # length of the whole track, in samples per channel
    subtype: str
    format: str
    starts: list[int] = field(default_factory=list)  # first sample of each window
    samples: np.ndarray | None = None  # float32 (W, window, channels)
    ints: list[np.ndarray] = field(default_factory=list)  # int32 copies, integer PCM only
    skipped_silent: int = 0

    @property
    def bits(self) -> int | None:
        return INT_SUBTYPES.get(self.subtype)

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def candidate_starts(frames: int, length: int, count: int) -> list[int]:
    """Start samples of ``count`` windows centred in ``count`` equal slices of the track."""
    if frames < length:
        return []
    count = max(1, min(count, frames // length))
    centres = (np.arange(count) + 0.5) * frames / count
    starts = np.clip(np.round(centres - length / 2), 0, frames - length).astype(int)
    return sorted(set(starts.tolist()))


def _read_at(f: sf.SoundFile, start: int, length: int, as_int: bool) -> np.ndarray:
    f.seek(start)
    block = f.read(length, dtype="int32" if as_int else "float32", always_2d=True)
    if block.shape[0] != length:
        raise sf.LibsndfileError(0, f"file ends early: read {block.shape[0]} of {length} samples at {start}")
    return block


def _is_silent(block: np.ndarray, as_int: bool) -> bool:
    x = block.astype(np.float32) * _INT_SCALE if as_int else block
    return float(np.mean(np.square(x, dtype=np.float32))) < _SILENCE_POWER


def read_windows(path, max_windows: int = MAX_WINDOWS) -> Windows:
    """Read up to ``max_windows`` non-silent windows spread over the track.

    A silent window is replaced, once, by windows a quarter of a slice to either side.
    Raises ``soundfile.LibsndfileError`` (or ``OSError``) when the file cannot be read.
    """
    with sf.SoundFile(path) as f:
        info = Windows(f.samplerate, f.channels, f.frames, f.subtype, f.format)
        length = window_length(f.samplerate)
        as_int = f.subtype in INT_SUBTYPES
        starts = candidate_starts(f.frames, length, max_windows)
        step = f.frames / max(len(starts), 1)
        blocks, used = [], []
        for start in starts:
            tries = [start, int(start - step / 4), int(start + step / 4)]
            for pos in tries:
                if pos < 0 or pos + length > f.frames:
                    continue
                block = _read_at(f, pos, length, as_int)
                if not _is_silent(block, as_int):
                    blocks.append(block)
                    used.append(pos)
                    break
            else:
                info.skipped_silent += 1
    info.starts = used
    if blocks:
        stack = np.stack(blocks)
        if as_int:
            info.ints = blocks
            info.samples = stack.astype(np.float32) * _INT_SCALE
        else:
            info.samples = stack.astype(np.float32, copy=False)
    return info

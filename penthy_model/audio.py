"""Reading the windows a verdict rests on, and nothing more of the file.

A file is never decoded whole: :func:`read_windows` seeks to up to ``MAX_WINDOWS``
positions spread over the track and reads one window at each, so memory and time do not
grow with the track's length. Integer PCM is read as int32 (left-justified), which keeps
the exact bits for the bit-depth check, and converted to float once.

soundfile reads FLAC, WAV, AIFF and CAF. ALAC (.m4a), WavPack (.wv) and APE (.ape) are
read through :mod:`penthy_model.decode_av` (the optional `formats` extra), which seeks and
cuts at the same samples, so the same PCM gives the same windows in every container.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf

from .constants import MAX_WINDOWS, SILENCE_DBFS
from .features import window_length
from .formats import needs_extra

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
        if self.subtype in INT_SUBTYPES:
            return INT_SUBTYPES[self.subtype]
        depth = self.subtype[4:] if self.subtype.startswith("PCM_") else ""
        return int(depth) if depth.isdigit() else None  # "PCM_20": a 20-bit ALAC

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


class _SoundfileReader:
    """soundfile's view of a file."""

    def __init__(self, path):
        self.file = sf.SoundFile(path)
        self.samplerate, self.channels, self.frames = self.file.samplerate, self.file.channels, self.file.frames
        self.subtype, self.format = self.file.subtype, self.file.format
        self.is_int = self.subtype in INT_SUBTYPES

    def read(self, start: int, length: int) -> np.ndarray:
        self.file.seek(start)
        block = self.file.read(length, dtype="int32" if self.is_int else "float32", always_2d=True)
        if block.shape[0] != length:
            raise sf.LibsndfileError(0, f"file ends early: read {block.shape[0]} of {length} samples at {start}")
        return block

    def close(self) -> None:
        self.file.close()


def open_reader(path) -> closing:
    """A reader for ``path`` (soundfile, or PyAV for the formats of the `formats` extra), as
    a context manager that closes it. A reader has ``samplerate``, ``channels``, ``frames``,
    ``subtype`` and ``format`` (soundfile's names), ``is_int``, ``read(start, length)`` (a
    (length, channels) block, int32 left-justified or float32) and ``close()``.

    Raises ``formats.ExtraMissing`` when the file needs the extra and it is not installed,
    ``formats.NotLossless`` for a lossy stream (an AAC .m4a).
    """
    if needs_extra(path):
        from .decode_av import AvReader

        return closing(AvReader(path))
    return closing(_SoundfileReader(path))


def _is_silent(block: np.ndarray, as_int: bool) -> bool:
    x = block.astype(np.float32) * _INT_SCALE if as_int else block
    return float(np.mean(np.square(x, dtype=np.float32))) < _SILENCE_POWER


def read_windows(path, max_windows: int = MAX_WINDOWS) -> Windows:
    """Read up to ``max_windows`` non-silent windows spread over the track.

    A silent window is replaced, once, by windows a quarter of a slice to either side.
    Raises ``soundfile.LibsndfileError`` (or ``OSError``) when the file cannot be read;
    for the `formats` extra's files also ``RuntimeError``/``ValueError``, among them
    ``formats.ExtraMissing`` and ``formats.NotLossless`` (see :func:`open_reader`).
    """
    with open_reader(path) as f:
        info = Windows(f.samplerate, f.channels, f.frames, f.subtype, f.format)
        length = window_length(f.samplerate)
        as_int = f.is_int
        starts = candidate_starts(f.frames, length, max_windows)
        step = f.frames / max(len(starts), 1)
        blocks, used = [], []
        for start in starts:
            tries = [start, int(start - step / 4), int(start + step / 4)]
            for pos in tries:
                if pos < 0 or pos + length > f.frames:
                    continue
                block = f.read(pos, length)
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

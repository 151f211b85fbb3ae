"""Features of a corpus, cached on disk, and the split that keeps a clip on one side.

The cache holds the output of the one feature function (``penthy_model.features``),
quantised to uint8 (120 dB / 255 = 0.47 dB per step), for up to ``WINDOWS_PER_FILE``
windows of every file in the corpus manifest. A second training run reads it at once.

The split is by genuine clip, never by window or by file: all fakes of a clip sit on
the same side as the clip. One whole source family is kept out of training and
validation altogether, so the test numbers also say how the model does on music made
in a way it has not seen.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import read_windows
from ..constants import FEATURES, MIN_SAMPLE_RATE
from ..features import window_features
from ..verdict import content_flags

WINDOWS_PER_FILE = 6
TEST_FAMILIES = ("music21_musescore",)  # held out whole: only ever in the test split
TEST_SHARE = 0.15  # of the clips of the other families
VAL_SHARE = 0.18  # 0.12 until penthy-1.2: too few band-limited genuine files to calibrate on
CACHE_VERSION = 1


def hash32(text: str) -> int:
    """A 32-bit number from a hash of ``text``: the same on every run and machine."""
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)


def unit_hash(text: str) -> float:
    """``hash32`` scaled to [0, 1]."""
    return hash32(text) / 0xFFFFFFFF


def split_of(clip_id: str, family: str) -> str:
    """'train', 'val' or 'test', from a hash of the clip id (stable across runs)."""
    if family in TEST_FAMILIES:
        return "test"
    u = unit_hash(clip_id)
    if u < TEST_SHARE:
        return "test"
    return "val" if u < TEST_SHARE + VAL_SHARE else "train"


def read_manifest(corpus: Path) -> list[dict]:
    with open(Path(corpus) / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["label"] = int(row["label"])
        row["sample_rate"] = int(row["sample_rate"])
        row["bandlimited"] = str(row.get("bandlimited", "")).lower() in ("1", "true", "yes")
        row["split"] = split_of(row["clip_id"], row["family"])
    return rows


@dataclass
class Cache:
    """Windows' features (uint8) and, per window, the index of the manifest row it came from."""

    x: np.ndarray  # (N, 2, bands, frames) uint8
    row: np.ndarray  # (N,) int32 index into ``rows``
    rows: list[dict]

    def column(self, key: str, dtype=None) -> np.ndarray:
        """A manifest column, per window."""
        return np.array([r[key] for r in self.rows], dtype=dtype)[self.row]

    def labels(self) -> np.ndarray:
        return self.column("label", np.float32)

    def file_starts(self) -> np.ndarray:
        """Where each manifest row's windows begin (and, at the end, how many windows there
        are): row i's windows are ``x[starts[i]:starts[i + 1]]``, empty if it gave none."""
        return np.searchsorted(self.row, np.arange(len(self.rows) + 1))

    def select(self, split: str) -> np.ndarray:
        """Indices of the windows whose file is in ``split``."""
        in_split = np.array([r["split"] == split for r in self.rows])
        return np.nonzero(in_split[self.row])[0]


def twin_windows(cache: Cache) -> np.ndarray:
    """Per window of a fake, the index of the same window of its genuine twin; -1 for
    genuine windows and for fakes without a twin window.

    A fake and the genuine file it was made from sit in one clip folder (``genuine.flac``,
    or ``genuine.shaped.flac`` for shaped copies), and their windows are chosen the same
    way, so the k-th windows of the two cover the same music.
    """
    starts = cache.file_starts()
    index = {r["path"]: i for i, r in enumerate(cache.rows)}
    twin = np.full(len(cache.x), -1, np.int64)
    for i, r in enumerate(cache.rows):
        if r["label"] == 1 or starts[i] == starts[i + 1]:
            continue
        parent, name = r["path"].rsplit("/", 1)
        g = index.get(f"{parent}/genuine.shaped.flac" if name.endswith(".shaped.flac") else f"{parent}/genuine.flac")
        if g is None or starts[g] == starts[g + 1]:  # no genuine twin, or it gave no window
            continue
        k = min(starts[i + 1] - starts[i], starts[g + 1] - starts[g])
        twin[starts[i]:starts[i] + k] = np.arange(starts[g], starts[g] + k)
    return twin


def twin_gap_db(cache: Cache, chunk: int = 2048) -> np.ndarray:
    """Per window of a fake, how far it differs from the same window of its genuine twin, in dB.

    For every row and channel the mean and the spread (standard deviation) over frames are
    compared; the gap is the largest difference of either. A small gap means the encoder
    left no mark this window shows: such a window is not evidence of a transcode, and
    training the net to call it one teaches it to accuse genuine music that looks the same.
    NaN for genuine windows and for fakes without a twin window (see ``twin_windows``).
    """
    span = (FEATURES.db_ceil - FEATURES.db_floor) / 255.0
    n = len(cache.x)
    mean = np.empty((n, 2, cache.x.shape[2]), np.float32)
    spread = np.empty_like(mean)
    for i in range(0, n, chunk):
        block = cache.x[i:i + chunk].astype(np.float32) * np.float32(span)
        mean[i:i + chunk], spread[i:i + chunk] = block.mean(axis=3), block.std(axis=3)
    twin = twin_windows(cache)
    fake = np.flatnonzero(twin >= 0)
    gap = np.full(n, np.nan, np.float32)
    for i in range(0, len(fake), chunk):
        f = fake[i:i + chunk]
        g = twin[f]
        d = np.maximum(np.abs(mean[f] - mean[g]), np.abs(spread[f] - spread[g]))
        gap[f] = d.reshape(len(f), -1).max(axis=1)
    return gap


def twin_has_content(cache: Cache, corpus: Path, windows_per_file: int = WINDOWS_PER_FILE,
                     log=sys.stderr) -> np.ndarray:
    """Per window of a fake, whether the same window of its genuine twin has sound above
    16 kHz, by the engine's own test (``verdict.content_flags``). The cache keeps no
    absolute levels, so the genuine files are read again; a file whose windows no longer
    match the cached ones counts as having content, as do fakes without a twin.
    """
    twin = twin_windows(cache)
    has = np.ones(len(cache.x), dtype=bool)
    flags = np.ones(len(cache.x), dtype=bool)  # by genuine window
    starts = cache.file_starts()
    genuine = np.unique(cache.row[twin[twin >= 0]])
    t0, changed = time.monotonic(), 0
    for j, i in enumerate(genuine):
        r = cache.rows[i]
        w = read_windows(Path(corpus) / r["path"], max_windows=windows_per_file)
        cached = cache.x[starts[i]:starts[i + 1]]
        if w.samples is None or len(w.samples) != len(cached):
            changed += 1
            continue
        features, reference_dbfs = window_features(w.samples, w.sample_rate, with_reference=True)
        if not np.array_equal(to_uint8(features), cached):
            changed += 1
            continue
        flags[starts[i]:starts[i + 1]] = content_flags(features, reference_dbfs, w.sample_rate)
        if (j + 1) % 500 == 0:
            print(f"twin content: {j + 1}/{len(genuine)} genuine files, {time.monotonic() - t0:.0f} s",
                  file=log, flush=True)
    fake = twin >= 0
    has[fake] = flags[twin[fake]]
    print(f"twin content: {len(genuine)} genuine files read again, {changed} no longer give the cached windows "
          f"(their fakes count as having content); {int((~has[fake]).sum())} of {int(fake.sum())} fake windows' "
          "twins have no sound above 16 kHz", file=log, flush=True)
    return has


def to_uint8(features: np.ndarray) -> np.ndarray:
    return np.round(np.clip(features, 0.0, 1.0) * 255.0).astype(np.uint8)


def to_float(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) * np.float32(1.0 / 255.0)


def _paths_digest(rows: list[dict]) -> str:
    return hashlib.sha1("\n".join(r["path"] for r in rows).encode()).hexdigest()


def build_cache(corpus: Path, cache_dir: Path, windows_per_file: int = WINDOWS_PER_FILE, log=sys.stderr) -> Cache:
    """Compute (or load) the feature cache of ``corpus``.

    The manifest only ever grows at its end, so when a cache covers its first rows (same
    paths, same feature parameters), only the rows added since are computed.
    """
    corpus, cache_dir = Path(corpus), Path(cache_dir)
    rows = read_manifest(corpus)
    stamp = {"version": CACHE_VERSION, "features": FEATURES.to_dict(), "windows": windows_per_file}
    meta_path = cache_dir / "cache.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    done = int(meta.get("rows", -1))
    if meta.get("stamp") != stamp or not 0 <= done <= len(rows) or meta.get("paths") != _paths_digest(rows[:done]):
        done, x, idx = 0, np.zeros((0, 2, FEATURES.n_bands, FEATURES.n_frames), np.uint8), np.zeros(0, np.int32)
    else:
        data = np.load(cache_dir / "features.npz")
        x, idx = data["x"], data["row"]
        if done == len(rows):
            return Cache(x, idx, rows)
        print(f"features: the cache has {done} of {len(rows)} files; adding the rest", file=log, flush=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # One buffer sized for the most windows the new files can give, filled in place and
    # cut to length at the end: the pages of its unused tail are never touched, so the
    # peak is about one cache, where a list of chunks joined at the end needed two.
    room = len(x) + (len(rows) - done) * windows_per_file
    buf = np.empty((room,) + x.shape[1:], np.uint8)
    row = np.empty(room, np.int32)
    buf[: len(x)], row[: len(x)] = x, idx
    n, skipped = len(x), int(meta.get("skipped_files", 0)) if done else 0
    del x, idx
    t0 = time.monotonic()
    for i in range(done, len(rows)):
        r = rows[i]
        if r["sample_rate"] < MIN_SAMPLE_RATE:
            skipped += 1
            continue
        w = read_windows(corpus / r["path"], max_windows=windows_per_file)
        if w.samples is None:
            skipped += 1
            continue
        k = len(w.samples)
        buf[n:n + k] = to_uint8(window_features(w.samples, w.sample_rate))
        row[n:n + k] = i
        n += k
        if (i + 1 - done) % 500 == 0:
            rate = (i + 1 - done) / (time.monotonic() - t0)
            print(f"features: {i + 1}/{len(rows)} files, {rate:.0f} files/s, "
                  f"ETA {(len(rows) - i - 1) / rate:.0f} s", file=log, flush=True)
    cache = Cache(buf[:n], row[:n], rows)
    np.savez(cache_dir / "features.npz", x=cache.x, row=cache.row)
    meta_path.write_text(json.dumps({"stamp": stamp, "rows": len(rows), "paths": _paths_digest(rows),
                                     "windows": int(len(cache.x)), "skipped_files": skipped}))
    print(f"features: {len(cache.x)} windows from {len(rows) - skipped} files "
          f"({skipped} skipped) in {time.monotonic() - t0:.0f} s", file=log, flush=True)
    return cache

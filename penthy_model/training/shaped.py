"""Copies of training clips with noise-shaped dither, genuine and fakes alike.

    python -m penthy_model.training.shaped --corpus DIR [--share 0.35] [--jobs 2]

Many masters are dithered to 16 bits with noise shaping, which moves the dither noise out
of the midrange and piles it up above 12-17 kHz, 20-40 dB over a flat dither floor
(TiMidity++ does the same by default). Over sparse music that rising floor is most of
what there is above 16 kHz, and a model that never saw it takes it for a transcode's
signature. This adds, for a share of the *training* clips, a copy of the genuine file and
of each of its fakes with such noise on top (one noise shape per clip, as if the same
mastering step had run after the transcode; a fresh noise for every file). The copies keep
their clip's id, so they stay on its side of the split; validation and test are left as
they are. Rows are appended to the manifest, so the feature cache only computes them.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

from .dataset import hash32, read_manifest, unit_hash
from .fakes import round_to_int16

SHARE = 0.35  # of the training clips
KNEE_HZ = (12000.0, 17000.0)
RISE_DB_PER_KHZ = (2.0, 5.0)
SUFFIX = ".shaped.flac"


def shaped_noise(frames: int, channels: int, sr: int, knee: float, rise: float, rng: np.random.Generator) -> np.ndarray:
    """TPDF dither (in 16-bit steps) whose spectrum rises by ``rise`` dB per kHz above ``knee``."""
    tpdf = rng.random((frames, channels)) - rng.random((frames, channels))
    f = np.fft.rfftfreq(frames, 1.0 / sr)
    gain = 10.0 ** (rise * np.clip(f - knee, 0.0, None) / 1000.0 / 20.0)
    return np.fft.irfft(np.fft.rfft(tpdf, axis=0) * gain[:, None], n=frames, axis=0)


def add_shaped_dither(src: Path, dst: Path, knee: float, rise: float, rng: np.random.Generator) -> None:
    x, sr = sf.read(src, dtype="int32", always_2d=True)
    step = 2.0 ** 16  # int32 units of one 16-bit step
    y = x / step + shaped_noise(len(x), x.shape[1], sr, knee, rise, rng)
    part = dst.with_name(dst.name + ".part")
    sf.write(part, round_to_int16(y), sr, format="FLAC", subtype="PCM_16")
    part.replace(dst)


def chosen(clip_id: str, share: float) -> bool:
    return unit_hash(f"shaped:{clip_id}") < share


def _copy_clip(args) -> list[dict]:
    corpus, rows = args
    rng = np.random.default_rng(hash32(rows[0]["clip_id"]))
    knee, rise = rng.uniform(*KNEE_HZ), rng.uniform(*RISE_DB_PER_KHZ)
    out = []
    for r in rows:
        path = r["path"][: -len(".flac")] + SUFFIX
        add_shaped_dither(corpus / r["path"], corpus / path, knee, rise, rng)
        out.append({**r, "path": path})
    return out


def extend(corpus: Path, share: float = SHARE, jobs: int = 2, log=sys.stderr) -> int:
    """Append shaped copies of a share of the training clips to the corpus; returns how many files."""
    corpus = Path(corpus)
    rows = read_manifest(corpus)
    if any(r["path"].endswith(SUFFIX) for r in rows):
        print("shaped: the corpus already has its shaped copies", file=log)
        return 0
    clips: dict[tuple, list] = {}
    for r in rows:
        if r["split"] == "train" and r["bits"] == "16" and chosen(r["clip_id"], share):
            clips.setdefault((r["family"], r["clip_id"]), []).append(r)
    with open(corpus / "manifest.csv", newline="") as fh:
        columns = next(csv.reader(fh))
    t0, made = time.monotonic(), []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for n, got in enumerate(pool.map(_copy_clip, [(corpus, v) for v in clips.values()], chunksize=4), 1):
            made += got
            if n % 200 == 0 or n == len(clips):
                print(f"shaped: {n}/{len(clips)} clips, {time.monotonic() - t0:.0f} s", file=log, flush=True)
    with open(corpus / "manifest.csv", "a", newline="") as fh:
        w = csv.DictWriter(fh, columns, extrasaction="ignore")
        for r in made:
            w.writerow({**r, "bandlimited": int(r["bandlimited"])})
    return len(made)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--share", type=float, default=SHARE, help="share of the training clips copied")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    n = extend(args.corpus, args.share, args.jobs)
    print(f"shaped: {n} files added to {args.corpus / 'manifest.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure every stage's findings on the issue-25 sets, once, for the policy to be judged offline.

    nice python bench/d25_measure.py /work/data/d25 [--split select] [--out findings_select.jsonl]

Per file: the CNN's window scores and pooled score, the content flags, the cutoff, the
upsampling answer, every codec grid's z (run on EVERY file, as the evidence stage will),
the lossy-texture score (a few designs) and the hi-res facts. One JSON line per file;
resumable (files already in the output are skipped).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from penthy_model import texture, upsampling  # noqa: E402
from penthy_model.audio import read_windows  # noqa: E402
from penthy_model.cutoff import estimate_cutoff  # noqa: E402
from penthy_model.features import window_features  # noqa: E402
from penthy_model.grid import grid_z  # noqa: E402
from penthy_model.inference import Model  # noqa: E402
from penthy_model.mp3grid import CONFIRM_AT, mp3_confirm_z, mp3_grid_z  # noqa: E402
from penthy_model.verdict import content_flags, pool  # noqa: E402

SKIP_CONFIRM_Z = 10.0  # a grid this strong (above every threshold in use) settles the file already
TEXTURE_DESIGNS = {"t512_2500": (512 / 44100, 2500.0), "t256_2500": (256 / 44100, 2500.0),
                   "t1024_2500": (1024 / 44100, 2500.0), "t512_1500": (512 / 44100, 1500.0)}


def _f(x):
    return None if x is None or not np.isfinite(x) else round(float(x), 3)


def findings(path: Path, model: Model, grids: bool = True) -> dict:
    w = read_windows(str(path))
    sr = w.sample_rate
    out = {"sample_rate": sr, "bits": w.bits}
    if w.samples is None:
        return out
    t0 = time.perf_counter()
    features, ref = window_features(w.samples, sr, with_reference=True)
    scores = model.predict(features)
    flags = content_flags(features, ref, sr)
    out.update(window_scores=[round(float(s), 4) for s in scores], model_score=round(pool(scores, model.pooling), 4),
               content=flags.astype(int).tolist(), cutoff_hz=estimate_cutoff(w.samples, sr))
    t1 = time.perf_counter()
    spec = upsampling.power_spectrum(list(w.samples), sr)
    wall = upsampling.find_wall(spec) if spec is not None else None
    out["upsampled_from"] = wall.original_rate if wall else None
    out["hires_content_hz"] = _f(upsampling.hires_content_hz(list(w.samples), sr))
    if spec is not None:
        ref_db = float(np.median(spec.db[(spec.freqs >= 2000) & (spec.freqs <= 14000)]))
        for lo, hi in ((24500, 27000), (26000, 40000)):
            hi = min(hi, 0.9 * sr / 2)
            band = spec.db[(spec.freqs >= lo) & (spec.freqs <= hi)]
            out[f"hires_{lo // 1000}k_db"] = _f(np.median(band) - ref_db) if band.size else None
        out["hires_floor_db"] = _f(np.median(spec.db[(spec.freqs >= 0.9 * sr / 2) & (spec.freqs <= 0.95 * sr / 2)]) - ref_db)
    t2 = time.perf_counter()
    for name, (fs, bw) in TEXTURE_DESIGNS.items():
        t = texture.measure(w.samples, sr, out["cutoff_hz"], frame_seconds=fs, band_hz=bw)
        out[name] = None if t is None else [t.score, t.channel, t.pairs, round(t.top_hz[1])]
    out["seconds"] = {"cnn": round(t1 - t0, 3), "up": round(t2 - t1, 3), "texture": round(time.perf_counter() - t2, 3)}
    if grids:
        out.update(grid_findings(w))
    return out


def grid_findings(w) -> dict:
    """Every codec grid's z (the costly part: ~10 s per file on a busy machine)."""
    sr = w.sample_rate
    out = {}
    t2 = time.perf_counter()
    g = grid_z(w.samples, w.starts, sr)
    out["grid"] = {k: [_f(v[0]), v[1], v[2]] for k, v in g.items()}
    t3 = time.perf_counter()
    if max((v[0] for v in g.values() if np.isfinite(v[0])), default=float("-inf")) >= SKIP_CONFIRM_Z:
        out.update(mp3=[None, 0, 0], mp3_confirm=None, mp3_equal=None, grid_seconds={"grid": round(t3 - t2, 3)})
        return out
    z, best, used = mp3_grid_z(w.samples, w.starts, sr)
    out["mp3"] = [_f(z), int(best), int(used)]
    # The second MP3 look costs ~4 s: run it only where the cheaper grids found nothing (as
    # the engine's find_grid -> find_mp3_grid chain does); None = not needed.
    out["mp3_confirm"] = out["mp3_equal"] = None
    strongest = max([v for v in (out["grid"]["AAC"][0], out["grid"]["Vorbis"][0], out["mp3"][0]) if v is not None],
                    default=float("-inf"))
    if strongest < SKIP_CONFIRM_Z:
        zero, equal = mp3_confirm_z(w.samples, w.starts, sr, [best, CONFIRM_AT])
        out["mp3_confirm"] = [_f(zero.z), zero.windows]
        out["mp3_equal"] = [_f(equal.z), equal.windows]
    t4 = time.perf_counter()
    out["grid_seconds"] = {"grid": round(t3 - t2, 3), "mp3": round(t4 - t3, 3)}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--split", default="select")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--cheap", action="store_true", help="everything but the codec grids")
    ap.add_argument("--grids-for", type=Path, help="only the grids, for the paths listed in this file")
    a = ap.parse_args(argv)
    out = a.out or a.root / (f"grids_{a.split}.jsonl" if a.grids_for else f"findings_{a.split}.jsonl")
    done = set()
    if out.exists():
        done = {json.loads(line)["path"] for line in out.read_text().splitlines() if line.strip()}
    rows = [r for r in csv.DictReader(open(a.root / "manifest.csv")) if r["split"] == a.split and r["path"] not in done]
    if a.grids_for:
        wanted = set(a.grids_for.read_text().split())
        rows = [r for r in rows if r["path"] in wanted]
    model = Model()
    t0 = time.time()
    with open(out, "a") as f:
        for i, row in enumerate(rows):
            rec = dict(row)
            if a.grids_for:
                rec.update(grid_findings(read_windows(str(a.root / row["path"]))))
            else:
                rec.update(findings(a.root / row["path"], model, grids=not a.cheap))
            f.write(json.dumps(rec) + "\n")
            f.flush()
            if (i + 1) % 20 == 0:
                print(f"{i + 1}/{len(rows)} {time.time() - t0:.0f} s", flush=True)
    print(f"done: {len(rows)} files, {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

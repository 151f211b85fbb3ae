"""Build the issue-25 sets: genuine kinds unlike the training corpus, and lossy fakes.

    nice python bench/d25_make.py --out /work/data/d25 [--per-kind 24] [--seconds 10] [--jobs 1]
        [--splits select test ...] [--conditions opus_96 opus_128 ...] [--fakes-per-condition 9]

Two splits from disjoint seeds: ``select`` (thresholds are chosen on it, by the rule in
rule.md) and ``test`` (judged once). Genuine clips: every kind of
``training.genuine_kinds.KINDS`` times the music styles, in turn. Fakes: full-band genuine
clips (44.1/48 kHz) through the lossy settings in ``FAKE_CONDITIONS``, one per clip, in turn,
plus fakes of steep-low-passed clips (a transcode of a mastered file is still a transcode).
Writes ``manifest.csv`` (path, split, label, kind, style, condition, group, rate, ...).
Resumable: files already there are kept.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from penthy_model.training import fakes, genuine_kinds as gk  # noqa: E402

FAKE_CONDITIONS = (
    "mp3_cbr128_lame", "mp3_cbr192_ffmpeg", "mp3_cbr256_lame", "mp3_cbr320_lame", "mp3_v0_lame",
    "mp3_320_nolowpass_lame", "mp3_v0_nolowpass_ffmpeg", "mp3_v2_sf",
    "aac_128", "aac_192", "aac_256", "aac_320",
    "vorbis_q3", "vorbis_q5", "vorbis_q6", "vorbis_q8",
    "opus_96", "opus_128", "opus_192",
)
SPLIT_SEEDS = {"select": 250_000, "test": 750_000, "test2": 1_250_000, "test3": 1_750_000,
               "test4": 2_250_000, "test5": 2_750_000, "test6": 3_250_000, "test7": 3_750_000,
               "test8": 4_250_000, "test9": 4_750_000, "test10": 5_250_000,
               "test11": 5_750_000, "test12": 6_250_000, "test13": 6_750_000,
               "test14": 7_250_000, "test15": 7_750_000,
               "test16": 8_250_000, "test17": 8_750_000,
               "test18": 9_250_000, "test19": 9_750_000,
               "test20": 10_250_000, "test21": 10_750_000}  # test2-test21: fresh, each judged once
COLUMNS = ("path", "split", "label", "kind", "style", "condition", "group", "sample_rate", "info")


def _write(path: Path, x: np.ndarray, sr: int, rng: np.random.Generator) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if sr > 48000:
        sf.write(str(path), x, sr, subtype="PCM_24", format="FLAC")
    else:
        sf.write(str(path), fakes.to_pcm16(x, rng), sr, subtype="PCM_16", format="FLAC")


def plan(per_kind: int, fakes_per_condition: int, splits=("select", "test"), conditions=FAKE_CONDITIONS) -> list[dict]:
    styles = [s for s in gk.MUSIC_STYLES if s != "fluidsynth" or gk.fluidsynth_available()]
    out = []
    for split, base in ((name, SPLIT_SEEDS[name]) for name in splits):
        n_kind = per_kind if split == "select" else max(1, per_kind * 2 // 3)
        for ki, kind in enumerate(gk.KINDS):
            for i in range(n_kind * (2 if kind == "full" else 1)):
                style = styles[(i + ki) % len(styles)]
                out.append(dict(split=split, label="genuine", kind=kind, style=style, seed=base + ki * 1000 + i,
                                condition="", group=""))
        n_fake = fakes_per_condition if split == "select" else max(1, fakes_per_condition * 2 // 3)
        for ci, cond in enumerate(FAKE_CONDITIONS):  # seeds keep each condition's place in the full list
            if cond not in conditions:
                continue
            for i in range(n_fake):
                kind = "lp_linear" if i % 4 == 3 else "full"
                style = styles[(i * 3 + ci) % len(styles)]
                out.append(dict(split=split, label="fake", kind=kind, style=style, seed=base + 100_000 + ci * 100 + i,
                                condition=cond, group=fakes.condition_group(cond)))
    return out


def build_one(args) -> dict | None:
    item, out, seconds = args
    name = (f"{item['split']}/{item['label']}/{item['kind']}_{item['style']}_{item['seed']}"
            + (f"_{item['condition']}" if item["condition"] else "") + ".flac")
    path = out / name
    rng = np.random.default_rng(item["seed"] + 7)
    rate = 48000 if item["seed"] % 5 == 0 else 44100
    try:
        x, sr, info = gk.make_clip(item["kind"], item["style"], item["seed"], seconds, rate)
    except Exception as exc:  # noqa: BLE001 - one failed render must not stop the build
        print(f"skip {name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return None
    if not path.exists():
        if item["label"] == "genuine":
            _write(path, x, sr, rng)
        else:
            src = path.with_suffix(".src.flac")
            _write(src, x, sr, rng)
            try:
                fakes.make_fake(src, path, item["condition"], rng)
            except fakes.EncodeError as exc:
                print(f"skip {name}: {exc}", file=sys.stderr)
                return None
            finally:
                src.unlink(missing_ok=True)
    return dict(path=name, split=item["split"], label=item["label"], kind=item["kind"], style=item["style"],
                condition=item["condition"], group=item["group"], sample_rate=sr,
                info=";".join(f"{k}={v}" for k, v in info.items() if k not in ("kind", "style", "seed")))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-kind", type=int, default=24)
    ap.add_argument("--fakes-per-condition", type=int, default=9)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--splits", nargs="+", default=["select", "test"], choices=sorted(SPLIT_SEEDS))
    ap.add_argument("--conditions", nargs="+", default=list(FAKE_CONDITIONS), choices=FAKE_CONDITIONS,
                    help="only these lossy settings (e.g. the Opus ones, for a larger Opus set)")
    a = ap.parse_args(argv)
    items = plan(a.per_kind, a.fakes_per_condition, a.splits, a.conditions)
    a.out.mkdir(parents=True, exist_ok=True)
    rows, t0 = [], time.time()
    with ProcessPoolExecutor(a.jobs) as pool:
        for i, row in enumerate(pool.map(build_one, [(it, a.out, a.seconds) for it in items], chunksize=2)):
            if row:
                rows.append(row)
            if (i + 1) % 25 == 0:
                print(f"{i + 1}/{len(items)} clips, {time.time() - t0:.0f} s", flush=True)
    with open(a.out / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS)
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} files in {a.out / 'manifest.csv'} ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

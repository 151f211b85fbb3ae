"""Codec-evidence bars: how often each codec is named on fakes and on genuine clips.

    python bench/codec_bars.py build OUT [--clips 160]      # genuine clips and fakes of them
    python bench/codec_bars.py measure OUT [--full] [--only selection-genuine]
                                                            # z per file -> OUT/z[_full].csv, bars

``build`` makes 10 s stereo clips, genuine in several kinds (fluidsynth renders of music21
scores and additive synthesis, plain; steep 20 kHz low-pass; made at 32 kHz and resampled
to 44.1 kHz; sparse (solo, 11 kHz low-pass, quiet); 96 kHz 24-bit), and from the 44.1 kHz
ones fakes through LAME, ffmpeg and libsndfile (``training.fakes.make_fake``), decoded at
their own rate, half of them with TPDF dither. Seeds even: the SELECTION half, odd: the
VALIDATION half. ``measure`` reads each file's windows as the engine does and records
every codec's z from ``evidence.find_codec`` as the engine calls it on a file the model
decided (screen, early stops at the engine's constants), or with ``--full`` every sample
with no early stop (and ``--thorough``: as on a file the model left undecided), and whether
the engine's thresholds name a codec.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from penthy_model.audio import read_windows  # noqa: E402
from penthy_model.demo import music  # noqa: E402
from penthy_model.evidence import find_codec  # noqa: E402
from penthy_model.verdict import Policy  # noqa: E402

POLICY = Policy(0.2, 0.5, 0.1)  # only its codec levels are used here

SECONDS = 10.0
KINDS = ("plain", "lowpass20k", "from32k", "sparse", "hires")
FAKES = ("mp3_320_nolowpass_lame", "mp3_320_nolowpass_ffmpeg", "mp3_cbr320_lame", "mp3_v0_lame", "mp3_v0_ffmpeg",
         "mp3_v0_nolowpass_lame", "mp3_cbr192_sf", "mp3_cbr128_ffmpeg", "mp3_v2_lame",
         "aac_256", "aac_320", "aac_192", "aac_128",
         "vorbis_q6", "vorbis_q7", "vorbis_q8", "vorbis_q8_sf", "vorbis_q6_sf", "vorbis_q4")


def render(rng: np.random.Generator, sr: int, solo: bool, tmp: Path) -> np.ndarray:
    """A fluidsynth render of a music21 score excerpt (FluidR3), or additive synthesis."""
    from penthy_model.training.sources import FONTS, music21_song, render_midi

    if rng.random() < 0.6:
        try:
            mid, _ = music21_song(rng, tmp, solo=solo, seconds=SECONDS + 1)
            x = render_midi(mid, FONTS["fluidr3"], sr, tmp)
            start = int(0.5 * sr)
            x = x[start:start + int(SECONDS * sr)]
            if len(x) == int(SECONDS * sr) and np.abs(x).max() > 1e-3:
                return 0.8 * x / np.abs(x).max()
        except Exception as exc:  # noqa: BLE001 - a score that will not render: synthesise instead
            print(f"render failed ({exc}); synthesising", file=sys.stderr)
    return music(SECONDS, sr=sr, seed=int(rng.integers(1 << 30)), amplitude=float(rng.uniform(0.3, 0.9))).astype(np.float64)


def lowpass(x: np.ndarray, sr: int, hz: float) -> np.ndarray:
    from scipy.signal import ellip, sosfiltfilt

    sos = ellip(12, 0.01, 100, hz / (sr / 2), output="sos")
    return sosfiltfilt(sos, x, axis=0)


def genuine(kind: str, seed: int, tmp: Path) -> tuple[np.ndarray, int, str]:
    from penthy_model.training.sources import resample

    rng = np.random.default_rng(seed)
    if kind == "plain":
        return render(rng, 44100, False, tmp), 44100, "PCM_16"
    if kind == "lowpass20k":
        return lowpass(render(rng, 44100, False, tmp), 44100, float(rng.uniform(19000, 20500))), 44100, "PCM_16"
    if kind == "from32k":
        return resample(render(rng, 32000, False, tmp), 32000, 44100), 44100, "PCM_16"
    if kind == "sparse":
        x = render(rng, 44100, True, tmp)
        if rng.random() < 0.5:
            x = lowpass(x, 44100, 11000.0)
        return x * float(rng.uniform(0.05, 0.5)), 44100, "PCM_16"
    return render(rng, 96000, False, tmp), 96000, "PCM_24"


def build(out: Path, clips: int) -> None:
    from penthy_model.training.fakes import make_fake, to_pcm16

    (out / "genuine").mkdir(parents=True, exist_ok=True)
    (out / "fake").mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    for seed in range(clips):
        kind = KINDS[seed % len(KINDS)]
        path = out / "genuine" / f"{kind}_{seed:04d}.flac"
        if not path.exists():
            with tempfile.TemporaryDirectory() as d:
                x, sr, subtype = genuine(kind, 1000 + seed, Path(d))
            rng = np.random.default_rng(seed)
            x = np.clip(x, -1, 1)
            if subtype == "PCM_16":
                sf.write(str(path), to_pcm16(x, rng), sr, subtype=subtype)
            else:
                sf.write(str(path), x, sr, subtype=subtype)
        if kind in ("hires",):
            continue
        cond = FAKES[seed % len(FAKES)] if kind != "sparse" else FAKES[(seed * 7) % len(FAKES)]
        fake = out / "fake" / f"{cond}_{kind}_{seed:04d}.flac"
        if not fake.exists():
            make_fake(path, fake, cond, np.random.default_rng(seed) if seed % 4 < 2 else None)
        if seed % 10 == 9:
            print(f"{seed + 1}/{clips} clips, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)


def measure(out: Path, full: bool, thorough: bool, only: str | None) -> None:
    rows = []
    t0 = time.time()
    files = sorted((out / "genuine").glob("*.flac")) + sorted((out / "fake").glob("*.flac"))
    if only:
        half, label = only.split("-")
        files = [f for f in files if f.parent.name == label
                 and int(f.stem.rsplit("_", 1)[1]) % 2 == (0 if half == "selection" else 1)]
    stops = {} if full else {"clear_z": POLICY.grid_clear_z, "absent_z": POLICY.grid_absent_z}
    for i, path in enumerate(files):
        w = read_windows(str(path))
        t = time.perf_counter()
        ev = find_codec(w.samples, w.starts, w.sample_rate, thorough=thorough, **stops)
        seconds = time.perf_counter() - t
        found = POLICY.proof(ev)
        seed = int(path.stem.rsplit("_", 1)[1])
        row = {"file": path.name, "label": path.parent.name, "half": "selection" if seed % 2 == 0 else "validation",
               "kind": path.stem.rsplit("_", 2)[-2], "named": found.codec if found else "",
               "ms": round(seconds * 1000)}
        for m in ev.measures:
            row[f"z_{m.codec}"] = round(m.z, 2) if m.measured else ""
            row[f"at_{m.codec}"] = m.alignment
        rows.append(row)
        if i % 50 == 49:
            print(f"{i + 1}/{len(files)} measured, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    keys = sorted({k for r in rows for k in r}, key=lambda k: (k.startswith(("z_", "at_")), k))
    name = "z" + ("_full" if full else "") + ("_thorough" if thorough else "") + (f"_{only}" if only else "")
    with open(out / f"{name}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, keys)
        w.writeheader()
        w.writerows(rows)
    report(rows)


def report(rows: list[dict]) -> None:
    def fam(codec):
        return "mp3" if codec == "mp3" else "mdct"

    for half in ("selection", "validation"):
        rs = [r for r in rows if r["half"] == half]
        gen = [r for r in rs if r["label"] == "genuine"]
        if not rs:
            continue
        ms = sorted(float(r["ms"]) for r in rs)
        print(f"== {half}: {len(gen)} genuine, {len(rs) - len(gen)} fakes; evidence ms median {ms[len(ms) // 2]:.0f}, "
              f"max {ms[-1]:.0f}")
        for f in ("mp3", "mdct"):
            zs = [float(r[k]) for r in gen for k in r if k.startswith("z_") and r[k] != "" and fam(k[2:]) == f]
            if zs:
                print(f"  genuine max z {f}: {max(zs):.2f}")
        for kind in KINDS:
            g = [r for r in gen if r["kind"] == kind]
            if g:
                print(f"  genuine {kind:<11} named {sum(bool(r['named']) for r in g)}/{len(g)}")
        fakes = [r for r in rs if r["label"] == "fake"]
        for codec in ("mp3", "aac", "vorbis"):
            fs = [r for r in fakes if r["file"].startswith(codec)]
            if fs:
                ok = sum(r["named"] == codec for r in fs)
                print(f"  fakes {codec:<6} named right {ok}/{len(fs)} ({ok / len(fs):.1%})")
                for r in fs:
                    if r["named"] != codec:
                        print(f"    missed {r['file']}: named {r['named'] or '-'} z {r.get('z_' + codec)}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("build", "measure", "report"))
    ap.add_argument("out", type=Path)
    ap.add_argument("--clips", type=int, default=160)
    ap.add_argument("--full", action="store_true", help="every sample, no early stop")
    ap.add_argument("--thorough", action="store_true", help="as for a file the model leaves undecided")
    ap.add_argument("--only", choices=("selection-genuine", "validation-genuine", "selection-fake", "validation-fake"))
    ap.add_argument("--csv", default="z.csv", help="report: which measured table")
    args = ap.parse_args(argv)
    if args.what == "build":
        build(args.out, args.clips)
    elif args.what == "measure":
        measure(args.out, args.full, args.thorough, args.only)
    else:
        with open(args.out / args.csv) as f:
            report(list(csv.DictReader(f)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

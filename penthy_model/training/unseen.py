"""A check on music, a renderer and encoders that no training file went through.

    python -m penthy_model.training.unseen --out DIR [--clips 80] [--model M.onnx] [--name NAME] [--install]

The test split holds clips made the way the training clips were (fluidsynth renders,
drum and sample loops) and fakes from the training encoders. This builds a set that
differs on both sides, and judges it with the engine:

- genuine: mma songs and music21 score excerpts, 20 s long, rendered by TiMidity++ (no
  training clip went through it) with the FreePats instruments (no training clip used
  them) or with FluidR3_GM. Full arrangements, solo parts and single mma tracks;
- fakes: MP3 from shine (a fixed-point encoder without a psychoacoustic model), Vorbis and
  Opus from ffmpeg's own encoders (training used libvorbis and libopus), and, so the two
  kinds of novelty can be told apart, LAME, ffmpeg AAC, libvorbis and libopus settings
  from training applied to this unseen music.

The figures say how far the test split's figures carry to audio made otherwise. A set
that a choice was made on stops being a fair check of that choice; ``--seed`` makes a
fresh one (the model card says which seeds were used to choose). Writes the report as
``NAME.json`` and ``NAME.md``, and every file's score and verdict as ``NAME.csv`` (NAME
is ``unseen`` unless ``--name`` says otherwise, so judging the same set with another
model need not replace the first report).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

from . import sources
from .corpus import COLUMNS, DITHER_SHARE, apt_install, check_report_name, fade, is_silent, set_peak
from .fakes import Condition, make_fake, to_pcm16

SECONDS = 20.0
LEAD_IN_SECONDS = 0.5
RENDERERS = {  # TiMidity++ configurations
    "timidity_freepats": "source /etc/timidity/freepats.cfg\n",
    "timidity_fluidr3": f"soundfont {sources.FONTS['fluidr3']}\n",
}
KINDS = {"full_mma": 0.3, "full_music21": 0.25, "solo": 0.25, "one_track": 0.2}
APT_PACKAGES = ("timidity", "freepats", "mma", "fluid-soundfont-gm", "lame", "ffmpeg")


def _ff(name, family, group, *args, ext):
    return Condition(name, family, group, "ffmpeg", args, ext)


CONDITIONS = (
    # encoders no training fake went through
    _ff("shine_cbr128", "mp3", "mp3_cbr_le256", "-c:a", "libshine", "-b:a", "128k", ext="mp3"),
    _ff("shine_cbr192", "mp3", "mp3_cbr_le256", "-c:a", "libshine", "-b:a", "192k", ext="mp3"),
    _ff("shine_cbr320", "mp3", "mp3_hard", "-c:a", "libshine", "-b:a", "320k", ext="mp3"),
    _ff("ffvorbis_q3", "vorbis", "vorbis", "-strict", "-2", "-c:a", "vorbis", "-q:a", "3", ext="ogg"),
    _ff("ffvorbis_q8", "vorbis", "vorbis", "-strict", "-2", "-c:a", "vorbis", "-q:a", "8", ext="ogg"),
    _ff("ffopus_96", "opus", "opus", "-strict", "-2", "-c:a", "opus", "-b:a", "96k", ext="opus"),
    _ff("ffopus_160", "opus", "opus", "-strict", "-2", "-c:a", "opus", "-b:a", "160k", ext="opus"),
    # training's encoders and settings, on music they were never applied to
    Condition("lame_cbr192", "mp3", "mp3_cbr_le256", "lame", ("-b", "192", "--cbr"), "mp3"),
    Condition("lame_v0", "mp3", "mp3_hard", "lame", ("-V", "0"), "mp3"),
    Condition("lame_320_nolowpass", "mp3", "mp3_hard", "lame", ("-b", "320", "--cbr", "--lowpass", "-1"), "mp3"),
    _ff("aac_128", "aac", "aac_lt256", "-c:a", "aac", "-b:a", "128k", ext="m4a"),
    _ff("aac_256", "aac", "aac_ge256", "-c:a", "aac", "-b:a", "256k", ext="m4a"),
    _ff("vorbis_q6", "vorbis", "vorbis", "-c:a", "libvorbis", "-q:a", "6", ext="ogg"),
    _ff("opus_128", "opus", "opus", "-c:a", "libopus", "-b:a", "128k", ext="opus"),
)
UNSEEN_ENCODERS = {c.name for c in CONDITIONS[:7]}


def render_timidity(mid: Path, renderer: str, sr: int, tmp: Path) -> np.ndarray:
    cfg, wav = tmp / f"{renderer}.cfg", tmp / "render.wav"
    cfg.write_text(RENDERERS[renderer])
    sources._run(["timidity", "-c", str(cfg), "-Ow", "-o", str(wav), "-s", str(sr), "--quiet=2", str(mid)],
                 f"timidity {renderer}")
    x, _ = sf.read(wav, dtype="float64", always_2d=True)
    return sources.stereo(x)


def make_clip(i: int, seed: int, out: Path) -> list[dict]:
    """Clip ``i``: its genuine FLAC and one fake per condition; the manifest rows."""
    rng = np.random.default_rng([seed, i])
    renderer = list(RENDERERS)[i % len(RENDERERS)]
    kind = str(rng.choice(list(KINDS), p=np.array(list(KINDS.values())) / sum(KINDS.values())))
    sr = int(rng.choice([44100, 48000]))
    clip_id = f"u{seed}_{i:04d}"
    with tempfile.TemporaryDirectory(prefix="penthy_unseen_") as d:
        tmp = Path(d)
        if kind in ("full_mma", "one_track"):
            mid, _ = sources.mma_song(rng, tmp, one_track=kind == "one_track", seconds=SECONDS + 2)
        else:
            mid, _ = sources.music21_song(rng, tmp, solo=kind == "solo", seconds=SECONDS + 2)
        x = render_timidity(mid, renderer, sr, tmp)
    x = x[int(LEAD_IN_SECONDS * sr):int((LEAD_IN_SECONDS + SECONDS) * sr)]
    if len(x) < sr or is_silent(x):
        return []
    x = set_peak(fade(x, sr), rng)
    folder = out / renderer / clip_id
    folder.mkdir(parents=True, exist_ok=True)
    genuine = folder / "genuine.flac"
    sf.write(genuine, to_pcm16(x, rng if rng.random() < DITHER_SHARE else None), sr, format="FLAC",
             subtype="PCM_16")
    limited = int(kind in ("solo", "one_track"))
    base = {"clip_id": clip_id, "family": renderer, "sample_rate": sr, "bits": 16, "bandlimited": limited,
            "kind": kind}
    rows = [{**base, "path": f"{renderer}/{clip_id}/genuine.flac", "label": 1, "condition": "genuine",
             "group": "genuine_bandlimited" if limited else "genuine_full"}]
    for c in CONDITIONS:
        make_fake(genuine, folder / f"{c.name}.flac", c, rng if rng.random() < DITHER_SHARE else None)
        rows.append({**base, "path": f"{renderer}/{clip_id}/{c.name}.flac", "label": 0, "condition": c.name,
                     "group": c.group})
    return rows


def _make_clip_star(args):
    try:
        return make_clip(*args)
    except Exception as e:  # one clip that cannot be made does not stop the set
        print(f"unseen: clip {args[0]} dropped: {e}", file=sys.stderr, flush=True)
        return []


def build(out: Path, clips: int, seed: int = 0, jobs: int = 2, log=sys.stderr) -> list[dict]:
    """Make the set under ``out`` (its manifest.csv lists every file) and return its rows."""
    out.mkdir(parents=True, exist_ok=True)
    rows, dropped, t0 = [], 0, time.monotonic()
    work = [(i, seed, out) for i in range(clips)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for n, got in enumerate(pool.map(_make_clip_star, work), 1):
            rows += got
            dropped += not got
            if n % 10 == 0 or n == clips:
                print(f"unseen: {n}/{clips} clips done ({dropped} dropped: silent or failed), "
                      f"{time.monotonic() - t0:.0f} s", file=log, flush=True)
    with open(out / "manifest.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return rows


def read_rows(out: Path) -> list[dict]:
    """The rows of a set made earlier (its manifest.csv)."""
    try:
        with open(out / "manifest.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise SystemExit(f"unseen: no set in {out} (run without --reuse to make one)") from None
    for r in rows:
        for key in ("label", "sample_rate", "bits", "bandlimited"):
            r[key] = int(r[key])
    return rows


def judge(out: Path, rows: list[dict], model=None, jobs: int = 2, log=sys.stderr, name: str = "unseen") -> dict:
    """Run the engine over the set; figures per group, per condition and per renderer.
    Every file's score and verdict go to ``NAME.csv``."""
    from ..analyze import Analyzer
    from ..verdict import has_evidence
    from .evaluate import metrics, write_files_csv

    analyzer = Analyzer(model)
    results = list(analyzer.analyze_many([out / r["path"] for r in rows], jobs=jobs))
    scores = np.array([np.nan if r.score is None else r.score for r in results])
    verdicts = [r.verdict for r in results]
    evidence = [has_evidence(r.content_share) for r in results]
    report = {"model_version": analyzer.model.version, "thresholds": vars(analyzer.thresholds),
              "all": metrics(rows, verdicts, scores, evidence)}
    for fam in RENDERERS:
        idx = [i for i, r in enumerate(rows) if r["family"] == fam]
        if idx:
            report[fam] = metrics([rows[i] for i in idx], [verdicts[i] for i in idx], scores[idx],
                                  [evidence[i] for i in idx])
    write_files_csv(out / f"{name}.csv", rows, results)
    print(f"unseen: judged {len(rows)} files", file=log, flush=True)
    return report


def markdown(report: dict) -> str:
    m = report["all"]
    lines = [f"Unseen renderer and encoders: {m['genuine']} genuine files, {m['fakes']} fakes "
             f"({report['model_version']}); ROC AUC {m['roc_auc']:.4f}, inconclusive {m['inconclusive_rate']:.1%}",
             "", "| group | files | called transcoded | with evidence | without evidence | inconclusive |",
             "|---|---|---|---|---|---|"]

    def pct(g, key):
        side = "without_evidence" if key.endswith("without_evidence") else "with_evidence"
        return f"{g[key]:.1%} ({g['files_' + side]})" if key in g else "-"

    for name, g in m["groups"].items():
        key = "recall" if "recall" in g else "called_transcoded"
        lines.append(f"| {name} | {g['files']} | {g[key]:.1%} | {pct(g, key + '_with_evidence')} | "
                     f"{pct(g, key + '_without_evidence')} | {g['inconclusive']:.1%} |")
    lines += ["", "| condition | files | recall | encoder |", "|---|---|---|---|"]
    for name, c in m["conditions"].items():
        seen = "unseen" if name in UNSEEN_ENCODERS else "as in training"
        lines.append(f"| {name} | {c['files']} | {c['recall']:.1%} | {seen} |")
    lines += ["", "| renderer | genuine called transcoded | genuine inconclusive | fake recall |", "|---|---|---|---|"]
    for fam in RENDERERS:
        if fam in report:
            r = report[fam]
            gen = [g for k, g in r["groups"].items() if k.startswith("genuine")]
            n = sum(g["files"] for g in gen)
            called = sum(g["called_transcoded"] * g["files"] for g in gen)
            inc = sum(g["inconclusive"] * g["files"] for g in gen)
            lines.append(f"| {fam} | {called:.0f} of {n} | {inc:.0f} of {n} | {r['recall']:.1%} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the audio and the report (outside the repo)")
    ap.add_argument("--clips", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    ap.add_argument("--install", action="store_true", help="apt-get install timidity, freepats, ... first")
    ap.add_argument("--reuse", action="store_true", help="judge the set already in --out instead of making one")
    ap.add_argument("--name", default="unseen", help="report name: writes NAME.json, NAME.md and NAME.csv")
    args = ap.parse_args(argv)
    check_report_name(args.name, "unseen")
    if args.install:
        apt_install(APT_PACKAGES)
    if args.reuse:
        rows = read_rows(args.out)
    else:
        rows = build(args.out, args.clips, args.seed, args.jobs)
    if not rows:
        raise SystemExit("unseen: no clip could be made (is timidity installed? try --install)")
    report = judge(args.out, rows, args.model, args.jobs, name=args.name)
    (args.out / f"{args.name}.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    text = markdown(report)
    (args.out / f"{args.name}.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

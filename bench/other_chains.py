"""Build transcodes through encoders and decoders the detectors were not developed on.

    python bench/other_chains.py SOURCES_DIR OUT_DIR [--limit 8]
    python bench/judge_sets.py OUT_DIR/manifest.csv

The codec grids were worked out on LAME, FFmpeg's AAC and libvorbis decoded by FFmpeg.
Held-out transcodes come from other chains, so this builds, from the genuine FLAC/WAV files
in SOURCES_DIR (first ``--limit`` in name order), decodes by other tools: MP3 from
libshine (FFmpeg) and LAME decoded by mpg123; AAC from FFmpeg decoded by faad; Vorbis from
FFmpeg's own encoder and from oggenc decoded by oggdec; Opus from opusenc decoded by opusdec
at 48 kHz and resampled by opusdec to 44.1 kHz; and an MP3 decode resampled by sox. Each chain
whose tools are missing is skipped with a line. The manifest's ``group`` is the chain, so
``judge_sets.py`` prints recall and the codec named per chain. Nothing is timed.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# chain -> (tools it needs, steps); a step is an argv with {src} {tmp} {out} filled in.
# Every chain ends in a WAV at {out}.
CHAINS = {
    "mp3_shine_128": (["ffmpeg"], [
        ["ffmpeg", "-v", "error", "-y", "-i", "{src}", "-c:a", "libshine", "-b:a", "128k", "{tmp}.mp3"],
        ["ffmpeg", "-v", "error", "-y", "-i", "{tmp}.mp3", "{out}"]]),
    "mp3_shine_320": (["ffmpeg"], [
        ["ffmpeg", "-v", "error", "-y", "-i", "{src}", "-c:a", "libshine", "-b:a", "320k", "{tmp}.mp3"],
        ["ffmpeg", "-v", "error", "-y", "-i", "{tmp}.mp3", "{out}"]]),
    "mp3_lame320_mpg123": (["lame", "mpg123"], [
        ["lame", "--quiet", "-b", "320", "{wav}", "{tmp}.mp3"],
        ["mpg123", "-q", "-w", "{out}", "{tmp}.mp3"]]),
    "mp3_lamev0_mpg123": (["lame", "mpg123"], [
        ["lame", "--quiet", "-V", "0", "{wav}", "{tmp}.mp3"],
        ["mpg123", "-q", "-w", "{out}", "{tmp}.mp3"]]),
    "aac_ff256_faad": (["ffmpeg", "faad"], [
        ["ffmpeg", "-v", "error", "-y", "-i", "{src}", "-c:a", "aac", "-b:a", "256k", "{tmp}.m4a"],
        ["faad", "-q", "-o", "{out}", "{tmp}.m4a"]]),
    "vorbis_ffnative": (["ffmpeg"], [
        ["ffmpeg", "-v", "error", "-y", "-i", "{src}", "-c:a", "vorbis", "-strict", "-2", "-ac", "2",
         "-q:a", "6", "{tmp}.ogg"],
        ["ffmpeg", "-v", "error", "-y", "-i", "{tmp}.ogg", "{out}"]]),
    "vorbis_q6_oggdec": (["oggenc", "oggdec"], [
        ["oggenc", "-Q", "-q", "6", "-o", "{tmp}.ogg", "{wav}"],
        ["oggdec", "-Q", "-o", "{out}", "{tmp}.ogg"]]),
    "opus_128_opusdec48": (["opusenc", "opusdec"], [
        ["opusenc", "--quiet", "--bitrate", "128", "{wav}", "{tmp}.opus"],
        ["opusdec", "--quiet", "--rate", "48000", "{tmp}.opus", "{out}"]]),
    "opus_128_opusdec44": (["opusenc", "opusdec"], [
        ["opusenc", "--quiet", "--bitrate", "128", "{wav}", "{tmp}.opus"],
        ["opusdec", "--quiet", "--rate", "44100", "{tmp}.opus", "{out}"]]),
    "mp3_lame256_sox48k": (["lame", "sox"], [
        ["lame", "--quiet", "-b", "256", "{wav}", "{tmp}.mp3"],
        ["lame", "--quiet", "--decode", "{tmp}.mp3", "{tmp}.dec.wav"],
        ["sox", "{tmp}.dec.wav", "-r", "48000", "{out}"]]),
}


def build(sources: list[Path], out_dir: Path) -> list[dict]:
    rows = []
    (out_dir / "fake").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmpdir:
        for chain, (tools, steps) in CHAINS.items():
            missing = [t for t in tools if shutil.which(t) is None]
            if missing:
                print(f"skipped {chain}: {', '.join(missing)} not installed", file=sys.stderr)
                continue
            for src in sources:
                wav = Path(tmpdir) / f"{src.stem}.wav"
                if not wav.exists():  # LAME, oggenc and opusenc read WAV
                    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-c:a", "pcm_s16le", str(wav)],
                                   check=True)
                tmp = Path(tmpdir) / f"{src.stem}.{chain}"
                out = tmp.with_suffix(".out.wav")
                fill = {"src": str(src), "wav": str(wav), "tmp": str(tmp), "out": str(out)}
                try:
                    for step in steps:
                        subprocess.run([a.format(**fill) for a in step], check=True, capture_output=True)
                except subprocess.CalledProcessError as exc:
                    print(f"failed {chain} on {src.name}: {exc.stderr.decode(errors='replace')[-200:]}", file=sys.stderr)
                    continue
                flac = out_dir / "fake" / f"{src.stem}__{chain}.flac"
                subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(out), "-c:a", "flac",
                                "-sample_fmt", "s16", str(flac)], check=True)
                rows.append({"path": f"fake/{flac.name}", "label": "fake", "group": chain})
            print(f"built {chain}", file=sys.stderr, flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sources", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--limit", type=int, default=8)
    a = ap.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        print("ffmpeg is needed to read the sources and write FLAC", file=sys.stderr)
        return 2
    sources = sorted(p for p in a.sources.iterdir() if p.suffix.lower() in (".flac", ".wav"))[: a.limit]
    if not sources:
        print(f"no FLAC or WAV files in {a.sources}", file=sys.stderr)
        return 2
    rows = build(sources, a.out)
    with (a.out / "manifest.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "label", "group"])
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} files in {a.out / 'manifest.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Genuine audio built to fool frame-grid detectors: does any get accused or a codec named?

    nice python bench/hostile_genuine.py --out /work/data/hg [--seconds 10] [--jobs 2] [--only NAME] [--draw N]

Frame-grid detectors look for structure that repeats every codec frame. Digital music can
repeat too: a wavetable or square wave whose period divides a codec's hop, a sample loop
of a power-of-two length, a gate clocked in samples, undithered 8-bit chip sounds. None of
these is lossy. Also the hard cases of the field notes: an FM capture (19 kHz pilot over a
15 kHz band), a vinyl transfer (crackle, rumble, wow, soft top end), a tape or vinyl transfer
of band-limited music with hiss over it through an anti-alias wall, a transfer cleaned by
spectral noise reduction, a clipped master, audio near the 16-bit floor, bit-reduced sources,
odd channel layouts; and waves under music at 8 and 11.025 kHz, where the windows are short
and the grids decide alone.

Every file is genuine. Prints one line per file whose verdict is ``transcoded`` or that has
a codec named, then counts per family. Nothing is timed.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from penthy_model.training.fakes import to_pcm16  # noqa: E402

PERIODS = (32, 64, 96, 128, 192, 256, 288, 384, 480, 512, 576, 640, 768, 960, 1024, 1152, 1536, 2048)
WAVES = ("square", "saw", "pulse", "table")
BED_PERIODS = (48, 96, 100, 128, 192, 256, 384, 441, 512, 576, 1024, 1152)  # 1 kHz at 48k is 48...
LOOPS = (576, 1024, 1152, 2048, 4096, 4608, 1920)
GATES = (576, 1024, 1152, 2048, 960, 3840)


def _wave(kind: str, period: int, n: int, rng) -> np.ndarray:
    ph = (np.arange(n) % period) / period
    if kind == "square":
        return np.where(ph < 0.5, 1.0, -1.0)
    if kind == "saw":
        return 2 * ph - 1
    if kind == "pulse":
        return np.where(ph < 0.25, 1.0, -0.33)
    table = rng.uniform(-1, 1, period)  # one cycle of a random wavetable, repeated exactly
    return table[np.arange(n) % period]


def _bed(rng, sr: int, seconds: float) -> np.ndarray:
    from penthy_model.training import genuine_kinds as gk
    style = rng.choice([s for s in gk.MUSIC_STYLES if s != "fluidsynth"])
    x = gk.music(str(style), rng, sr, seconds)
    return x / max(1e-9, np.abs(x).max())


def plan() -> list[tuple]:
    out = []
    for sr in (44100, 48000):
        for w in WAVES:
            for p in PERIODS:
                out.append(("periodic", f"{w}_{p}", sr, 0))
            for p in BED_PERIODS:
                out.append(("periodic_bed", f"{w}_{p}", sr, 1))
        for L in LOOPS:
            out.append(("loop", f"noise_{L}", sr, 0))
            out.append(("loop", f"bed_{L}", sr, 1))
        for g in GATES:
            out.append(("gate", f"bed_{g}", sr, 2))
        for name in ("fm_capture", "vinyl", "hiss_transfer", "denoised", "clipped", "tiny", "bits8", "bits12",
                     "one_channel", "inverted", "mono", "chip8"):
            for seed in range(3):
                out.append(("other", name, sr, 10 + seed))
    for sr in (96000, 192000):
        for p in (64, 128, 256, 576, 1024):
            out.append(("hires_periodic", f"square_{p}", sr, 0))
    for sr in (8000, 11025):
        for w in ("pulse", "saw"):
            for p in (128, 256, 512, 1024):
                out.append(("low_rate_bed", f"{w}_{p}", sr, 1))
    return out


def render(family: str, name: str, sr: int, seed: int, seconds: float, draw: int = 0) -> np.ndarray:
    """(n, 2) float in [-1, 1], or int16 for the bit-exact cases. ``draw`` picks other music
    (and noise) for the same plan; the same draw gives the same files every run."""
    key = f"{family}/{name}/{sr}/{seed}" + (f"/{draw}" if draw else "")
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    n = int(seconds * sr)
    if family in ("periodic", "hires_periodic", "periodic_bed", "low_rate_bed"):
        w, p = name.split("_")
        x = 0.3 * _wave(w, int(p), n, rng)
        x = np.stack([x, x], 1)
        if family in ("periodic_bed", "low_rate_bed"):
            x = x + 0.5 * _bed(rng, sr, seconds)
            return to_pcm16(np.clip(x, -1, 1), rng)
        return to_pcm16(x)  # undithered: digital synthesis often is
    if family == "loop":
        src, L = name.split("_")
        L = int(L)
        seg = rng.standard_normal((L, 2)) * 0.2 if src == "noise" else 0.7 * _bed(rng, sr, 1.0)[:L]
        return to_pcm16(np.clip(np.tile(seg, (n // L + 1, 1))[:n], -1, 1))
    if family == "gate":
        g = int(name.split("_")[1])
        gate = ((np.arange(n) // (g // 2)) % 2).astype(float)
        return to_pcm16(0.7 * _bed(rng, sr, seconds) * gate[:, None])
    bed = 0.7 * _bed(rng, sr, seconds)
    from scipy import signal
    if name == "fm_capture":
        sos = signal.butter(10, 15000, fs=sr, output="sos")
        y = signal.sosfilt(sos, bed, axis=0) * 0.8
        t = np.arange(n) / sr
        y += 0.02 * np.sin(2 * np.pi * 19000 * t)[:, None] + 1e-3 * rng.standard_normal((n, 2))
        return to_pcm16(y, rng)
    if name == "vinyl":
        sos = signal.butter(2, 18000, fs=sr, output="sos")
        t = np.arange(n) / sr
        wow = (t + 0.0015 * np.sin(2 * np.pi * 0.55 * t)) * sr
        y = np.stack([np.interp(wow, np.arange(n), bed[:, c]) for c in range(2)], 1)
        y = signal.sosfilt(sos, y, axis=0)
        clicks = np.zeros((n, 2))
        at = rng.integers(0, n - 40, int(seconds * 8))
        clicks[at] = rng.uniform(-0.3, 0.3, (len(at), 2))
        y += signal.lfilter([1, 0.5, 0.2], [1], clicks, axis=0)
        y += 0.01 * np.sin(2 * np.pi * 8 * t)[:, None] + 3e-3 * rng.standard_normal((n, 2))
        return to_pcm16(np.clip(y, -1, 1), rng)
    if name == "hiss_transfer":  # tape or vinyl: music fading out at 10-16 kHz, hiss over it, an anti-alias wall
        hz = np.fft.rfftfreq(n, 1 / sr)
        top, width = rng.uniform(10000, 16000), rng.uniform(300, 3000)
        y = np.fft.irfft(np.fft.rfft(bed, axis=0) * np.clip((top - hz) / width, 0, 1)[:, None], n, axis=0)
        y = y + 10 ** (rng.uniform(-96, -80) / 20) * rng.standard_normal((n, 2))
        spectrum = np.fft.rfft(y, axis=0)
        spectrum[hz > (20000 if sr == 48000 else rng.choice([20000, 21000]))] = 0
        return to_pcm16(np.clip(np.fft.irfft(spectrum, n, axis=0), -1, 1))
    if name == "denoised":  # noise reduction as Audacity does it: STFT bins under k x the noise's gated down
        hiss = 10 ** (rng.uniform(-70, -50) / 20)
        y = bed + hiss * rng.standard_normal((n, 2))
        size, hop = 2048, 512
        profile = np.mean(np.abs(signal.stft(hiss * rng.standard_normal((n, 2)), sr, "hann", size, size - hop,
                                             axis=0)[2]) ** 2, axis=-1, keepdims=True)
        spec = signal.stft(y, sr, "hann", size, size - hop, axis=0)[2]
        gain = np.where(np.abs(spec) ** 2 > rng.choice([2.0, 4.0, 8.0]) * profile, 1.0,
                        10 ** (-rng.uniform(6, 24) / 20))
        y = signal.istft(spec * gain, sr, "hann", size, size - hop, time_axis=-1, freq_axis=0)[1]
        return to_pcm16(np.clip(y.T[:n], -1, 1), rng)
    if name == "clipped":
        return to_pcm16(np.clip(bed * 4, -1, 1))
    if name == "tiny":
        return to_pcm16(bed * 10 ** (-70 / 20), rng)
    if name in ("bits8", "bits12"):
        bits = int(name[4:])
        step = 2.0 ** (1 - bits)
        return to_pcm16(np.round(bed / step) * step)
    if name == "one_channel":
        bed[:, 1] = 0
        return to_pcm16(bed, rng)
    if name == "inverted":
        bed[:, 1] = -bed[:, 0]
        return to_pcm16(bed, rng)
    if name == "mono":
        return to_pcm16(bed[:, :1], rng)
    if name == "chip8":  # 8-bit chiptune: pulse voices with pitches in samples, no dither
        y = np.zeros(n)
        for k in range(3):
            p = int(rng.integers(40, 400))
            notes = np.repeat(rng.integers(0, 2, n // 5512 + 1), 5512)[:n]
            y += 0.25 * _wave("pulse" if k else "square", p, n, rng) * notes
        y = np.round(y * 127) / 127
        return to_pcm16(np.stack([y, y], 1))
    raise ValueError(name)


def one(args):
    (family, name, sr, seed), out, seconds, draw = args
    path = Path(out) / f"{family}__{name}__{sr}__{seed}.flac"
    if not path.exists():
        x = render(family, name, sr, seed, seconds, draw)
        if sr > 48000:
            x = x.astype(np.int32) << 16  # int16 to the top of int32: soundfile keeps its top 24 bits
        sf.write(str(path), x, sr, subtype="PCM_24" if sr > 48000 else "PCM_16")
    from penthy_model.analyze import analyze
    r = analyze(path)
    return family, path.name, r.verdict, r.score, r.model_score, r.codec, r.grid_z


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--draw", type=int, default=0, help="another draw of the music and noise (0: the usual files)")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    items = [i for i in plan() if a.only in i[0] or a.only in i[1]]
    counts: dict = {}
    with ProcessPoolExecutor(a.jobs) as ex:
        for fam, name, verdict, score, ms, codec, z in ex.map(one, [(i, a.out, a.seconds, a.draw) for i in items]):
            c = counts.setdefault(fam, [0, 0, 0, 0])
            c[0] += 1
            c[1] += verdict == "transcoded"
            c[2] += bool(codec)
            c[3] += verdict == "inconclusive"
            if verdict == "transcoded" or codec:
                print(f"{verdict:12s} codec={codec} z={z} model={ms} {name}", flush=True)
    for fam, (n, acc, named, inc) in counts.items():
        print(f"{fam:15s} files {n:4d}  accused {acc:3d}  codec named {named:3d}  inconclusive {inc:3d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

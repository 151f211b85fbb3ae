"""Accuracy of penthy's fake hi-res checks (upsampling and padded bit depth) on generated audio.

Generates music-like signals (shaped noise with a pink tilt, a natural rolloff, an amplitude
envelope, a few partials and a recording noise floor) in several classes, runs
``upsampled_from`` and ``effective_bits`` on windows the way the engine hands them over
(0.75 s windows, float32 for the spectrum, left-justified int32 for the bits), and prints
Markdown tables: a confusion matrix per check, detection per resampler and per
post-processing, and the cost per call.

Classes (``--per-class`` cases each, seeds varied):
  native       native 88.2/96/176.4/192 kHz recordings: natural rolloffs (corner 8-30 kHz,
               -6..-36 dB/octave), analog lowpasses (4th-8th order, 20-40 kHz), DSD-like
               rising noise, the top of a half-band ADC filter, varied floors and levels
  from 44.1    16-bit (sometimes 24-bit) 44.1 kHz masters resampled to 88.2-192 kHz
  from 48      48 kHz masters resampled to 96/192 kHz
  from 88.2/96 88.2/96 kHz masters resampled to 176.4/192 kHz
  straddling   44.1/48 kHz masters through resamplers whose transition band straddles the
               old Nyquist frequency and ends 1-2 kHz above it (ffmpeg's swr with a longer
               filter): the wall lands where the other rate's would; only when ffmpeg exists
  slow         44.1/48 kHz masters through resamplers with a slow transition or poor image
               rejection; scipy's default and ffmpeg's default swr leave a 40-60 dB cliff that
               is read as upsampling (expected: the source rate); the others (linear
               interpolation, soxr "quick") leave no wall and are expected None
  bit classes  genuine 24, genuine 16, 16 padded to 24 (zeros / constant offset), 16 padded
               to 24 then TPDF-dithered at 24 bits (undecidable: reported as 24)
The upsampled files get one of: 24-bit requantization, 16-bit TPDF re-dither (stored as
16 bits), or white noise at -110..-125 dBFS added before the 24-bit requantization.

Needs numpy and scipy; uses the real soxr and libsamplerate resamplers when the ``soxr`` and
``samplerate`` packages are installed (``pip install soxr samplerate``) and ffmpeg's when
``ffmpeg`` is on the PATH, else scipy-only stand-ins. Run from the repository root:

    python bench/upsampling_accuracy.py [--per-class 60] [--seed 0] [--windows 6] [--failures]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import firwin, resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from penthy_model.bitdepth import effective_bits  # noqa: E402
from penthy_model.upsampling import CANDIDATE_RATES, upsampled_from  # noqa: E402

try:
    import soxr
except ImportError:  # pragma: no cover - optional
    soxr = None
try:
    import samplerate
except ImportError:  # pragma: no cover - optional
    samplerate = None

WINDOW_SECONDS = 0.75


# --- signals ------------------------------------------------------------------------------
def music_like(
    rng: np.random.Generator,
    rate: int,
    seconds: float,
    *,
    corner_hz: float,
    slope_db_oct: float,
    level_dbfs: float,
    floor_dbfs: float,
    channels: int = 2,
    lowpass: tuple[float, int] | None = None,
    dsd_noise_dbfs: float | None = None,
    adc_filter: bool = False,
) -> np.ndarray:
    """Shaped stereo noise plus partials, enveloped, over a white recording floor.

    Spectrum: -3 dB/octave (pink) from 200 Hz, ``slope_db_oct`` more above ``corner_hz``,
    optionally an analog lowpass ``(freq, order)``, optionally the top of a half-band ADC
    filter (flat to 0.907 of the Nyquist frequency, -6 dB at it).
    """
    n = int(round(seconds * rate))
    f = np.fft.rfftfreq(n, 1.0 / rate)
    gain_db = -3.0 * np.log2(np.maximum(f, 200.0) / 1000.0)
    gain_db += np.where(f > corner_hz, slope_db_oct * np.log2(np.maximum(f, corner_hz) / corner_hz), 0.0)
    gain = 10.0 ** (gain_db / 20.0)
    if lowpass is not None:
        gain /= np.sqrt(1.0 + (f / lowpass[0]) ** (2 * lowpass[1]))
    if adc_filter:
        # A half-band ADC decimation filter as seen inside the file: flat to 0.907 of the
        # Nyquist frequency, -6 dB at Nyquist (what it lets alias back is not modelled).
        nyq = rate / 2.0
        over = np.clip((f / nyq - 0.907) / 0.093, 0.0, 1.0)
        gain *= 10.0 ** (-6.0 * over**2 / 20.0)
    common = rng.standard_normal(n)
    x = np.stack(
        [np.fft.irfft(np.fft.rfft(common + rng.standard_normal(n)) * gain, n) for _ in range(channels)],
        axis=1,
    )
    x /= np.sqrt(np.mean(x**2))
    # Partials: a few harmonic series whose amplitudes follow the same spectral envelope.
    t = np.arange(n) / rate
    tones = np.zeros(n)
    for fundamental in rng.uniform(80.0, 1000.0, 3):
        for k in range(1, 12):
            fk = fundamental * k * rng.uniform(0.995, 1.005)
            if fk >= 0.45 * rate:
                break
            amp = np.interp(fk, f, gain) / np.interp(1000.0, f, gain)
            tones += 0.05 * amp * np.sin(2 * np.pi * fk * t + rng.uniform(0, 2 * np.pi))
    x += tones[:, None]
    knots = np.arange(0.0, seconds + 0.1, 0.05)
    env_db = rng.uniform(-18.0, 0.0, knots.size)
    x *= 10.0 ** (np.interp(t, knots, env_db) / 20.0)[:, None]
    x *= 10.0 ** (level_dbfs / 20.0) / np.sqrt(np.mean(x**2))
    x += rng.standard_normal(x.shape) * 10.0 ** (floor_dbfs / 20.0)
    if dsd_noise_dbfs is not None:
        # Noise shaped like a DSD modulator's: rising ~18 dB/octave above 20 kHz.
        w = np.fft.rfft(rng.standard_normal(x.shape), axis=0)
        shape = (np.maximum(f, 20000.0) / 20000.0) ** 3 - 1.0
        shaped = np.fft.irfft(w * shape[:, None], n, axis=0)
        shaped *= 10.0 ** (dsd_noise_dbfs / 20.0) / max(np.sqrt(np.mean(shaped**2)), 1e-30)
        x += shaped
    return x


def quantize_int(x: np.ndarray, bits: int, rng: np.random.Generator, dither: bool = True) -> np.ndarray:
    """TPDF-dithered quantization to integer values of ``bits``."""
    top = 2.0 ** (bits - 1)
    d = rng.uniform(-0.5, 0.5, x.shape) + rng.uniform(-0.5, 0.5, x.shape) if dither else 0.0
    return np.clip(np.round(x * top + d), -top, top - 1).astype(np.int64)


def quantize(x: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    return quantize_int(x, bits, rng) / 2.0 ** (bits - 1)


# --- resamplers ------------------------------------------------------------------------------
def kaiser_poly(x, rate_in, rate_out, passband, stopband, atten_db):
    """Polyphase resampling with a Kaiser-windowed sinc designed from a transition band
    given as fractions of the lower Nyquist frequency."""
    g = gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    fs = rate_in * up
    nyq = min(rate_in, rate_out) / 2.0
    f_pass, f_stop = passband * nyq, stopband * nyq
    numtaps = int(np.ceil((atten_db - 7.95) / (14.36 * (f_stop - f_pass) / fs))) | 1
    beta = 0.1102 * (atten_db - 8.7)
    h = firwin(numtaps, (f_pass + f_stop) / 2.0, window=("kaiser", beta), fs=fs)
    return resample_poly(x, up, down, axis=0, window=h)


def linear(x, rate_in, rate_out):
    t = np.arange(int(len(x) * rate_out / rate_in)) * rate_in / rate_out
    return np.stack([np.interp(t, np.arange(len(x)), x[:, c]) for c in range(x.shape[1])], axis=1)


def scipy_default(x, rate_in, rate_out):
    g = gcd(rate_in, rate_out)
    return resample_poly(x, rate_out // g, rate_in // g, axis=0)


def ffmpeg(x, rate_in, rate_out, options=""):
    """ffmpeg's aresample filter (swr unless options pick soxr), float32 through pipes."""
    arg = f"aresample={rate_out}" + (f":{options}" if options else "")
    cmd = ["ffmpeg", "-v", "error", "-f", "f32le", "-ar", str(rate_in), "-ac", str(x.shape[1]),
           "-i", "-", "-af", arg, "-f", "f32le", "-"]
    out = subprocess.run(cmd, input=x.astype("<f4").tobytes(), capture_output=True, check=True).stdout
    return np.frombuffer(out, "<f4").reshape(-1, x.shape[1]).astype(np.float64)


# Resamplers with a steep wall at or below the old Nyquist frequency, of high and of low
# quality: the classes "from 44.1", "from 48" and "from 88.2/96" draw from these.
GOOD_RESAMPLERS = {
    "kaiser 0.91-1.00 150dB (soxr-like)": lambda x, a, b: kaiser_poly(x, a, b, 0.91, 1.00, 150.0),
    "kaiser 0.97-1.03 110dB (centred)": lambda x, a, b: kaiser_poly(x, a, b, 0.97, 1.03, 110.0),
    "kaiser 0.80-1.00 100dB (short)": lambda x, a, b: kaiser_poly(x, a, b, 0.80, 1.00, 100.0),
}
# Resamplers whose transition band straddles the old Nyquist frequency and ends well above
# it (the wall lands where another source rate's would): reported separately.
STRADDLING_RESAMPLERS = {}
# Resamplers with a slow transition or poor image rejection: no wall, expected None, except the
# ordinary ones (scipy's and ffmpeg's defaults), whose 40-60 dB cliff is read since issue 25.
SLOW_RESAMPLERS = {
    "linear interpolation": linear,
    "scipy resample_poly default (Kaiser 5, 20 taps)": scipy_default,
}
if soxr is not None:
    for _q in ("VHQ", "HQ", "MQ", "LQ"):
        GOOD_RESAMPLERS[f"soxr {_q}"] = lambda x, a, b, q=_q: soxr.resample(x, a, b, quality=q)
    SLOW_RESAMPLERS["soxr QQ"] = lambda x, a, b: soxr.resample(x, a, b, quality="QQ")
if samplerate is not None:
    for _m in ("sinc_best", "sinc_medium", "sinc_fastest"):
        GOOD_RESAMPLERS[f"libsamplerate {_m}"] = lambda x, a, b, m=_m: samplerate.resample(x, b / a, m)
if shutil.which("ffmpeg"):
    GOOD_RESAMPLERS["ffmpeg soxr"] = lambda x, a, b: ffmpeg(x, a, b, "resampler=soxr")
    STRADDLING_RESAMPLERS["ffmpeg swr filter_size=64"] = lambda x, a, b: ffmpeg(x, a, b, "filter_size=64")
    STRADDLING_RESAMPLERS["ffmpeg swr filter_size=128 cutoff=0.99"] = lambda x, a, b: ffmpeg(
        x, a, b, "filter_size=128:cutoff=0.99"
    )
    SLOW_RESAMPLERS["ffmpeg swr default (32 taps, cutoff 0.97)"] = lambda x, a, b: ffmpeg(x, a, b)
ORDINARY_RESAMPLERS = ("scipy resample_poly default (Kaiser 5, 20 taps)", "ffmpeg swr default (32 taps, cutoff 0.97)")


# --- cases ---------------------------------------------------------------------------------------
@dataclass
class Case:
    klass: str
    rate: int
    stored_bits: int
    ints: np.ndarray  # integer sample values at stored_bits
    expect_rate: int | None
    expect_bits: int | None
    resampler: str = "-"
    post: str = "-"


def random_source(rng, rate, seconds, hires: bool):
    """Spectral parameters of a random recording (a native hi-res one when ``hires``)."""
    kind = rng.choice(["natural", "natural", "analog", "dsd"] if hires else ["natural"])
    kw = dict(
        corner_hz=rng.uniform(8000.0, 30000.0) if hires else rng.uniform(9000.0, 20000.0),
        slope_db_oct=rng.uniform(-36.0, -6.0) if hires else rng.uniform(-30.0, -3.0),
        level_dbfs=rng.uniform(-45.0, -14.0),
        floor_dbfs=rng.uniform(-135.0, -95.0),
        channels=int(rng.choice([1, 2, 2, 2])),
        adc_filter=bool(rng.random() < 0.5),
    )
    if kind == "analog":
        kw["lowpass"] = (rng.uniform(20000.0, 40000.0), int(rng.integers(4, 9)))
        kw["slope_db_oct"] = rng.uniform(-12.0, 0.0)
    if kind == "dsd":
        kw["dsd_noise_dbfs"] = rng.uniform(-80.0, -60.0)
    return music_like(rng, rate, seconds, **kw), str(kind)


def upsampled_case(rng, klass, rate_in, rate_out, resampler_name, resample, seconds):
    master_bits = 16 if (rate_in == 44100 and rng.random() < 0.8) else 24
    master, _ = random_source(rng, rate_in, seconds, hires=rate_in > 48000)
    master = quantize(master, master_bits, rng)
    y = resample(master, rate_in, rate_out)
    post = rng.choice(["24-bit", "24-bit", "16-bit TPDF", "noise + 24-bit"])
    bits = 24
    if post == "16-bit TPDF":
        bits = 16
    elif post == "noise + 24-bit":
        y = y + rng.standard_normal(y.shape) * 10.0 ** (rng.uniform(-125.0, -110.0) / 20.0)
    return Case(
        klass,
        rate_out,
        bits,
        quantize_int(y, bits, rng),
        expect_rate=None if klass == "slow" and resampler_name not in ORDINARY_RESAMPLERS else rate_in,
        expect_bits=bits,
        resampler=resampler_name,
        post=str(post),
    )


def make_cases(per_class: int, seed: int, seconds: float) -> list[Case]:
    cases = []
    rng = np.random.default_rng(seed)
    good = list(GOOD_RESAMPLERS.items())
    slow = list(SLOW_RESAMPLERS.items())
    straddling = list(STRADDLING_RESAMPLERS.items())
    for i in range(per_class):
        # native hi-res
        rate = int(rng.choice([88200, 96000, 176400, 192000]))
        x, kind = random_source(rng, rate, seconds, hires=True)
        cases.append(Case("native", rate, 24, quantize_int(x, 24, rng), None, 24, post=kind))
        # upsampled from 44.1, 48, 88.2/96, and through slow resamplers
        name, fn = good[i % len(good)]
        cases.append(upsampled_case(rng, "from 44.1", 44100, int(rng.choice([88200, 96000, 176400, 192000])), name, fn, seconds))
        name, fn = good[(i + 1) % len(good)]
        cases.append(upsampled_case(rng, "from 48", 48000, int(rng.choice([96000, 192000])), name, fn, seconds))
        name, fn = good[(i + 2) % len(good)]
        src = int(rng.choice([88200, 96000]))
        cases.append(upsampled_case(rng, "from 88.2/96", src, 2 * src, name, fn, seconds))
        name, fn = slow[i % len(slow)]
        cases.append(upsampled_case(rng, "slow", int(rng.choice([44100, 48000])), int(rng.choice([96000, 192000])), name, fn, seconds))
        if straddling:
            name, fn = straddling[i % len(straddling)]
            cases.append(
                upsampled_case(rng, "straddling", int(rng.choice([44100, 48000])), int(rng.choice([96000, 192000])), name, fn, seconds)
            )
        # bit depth (rates both under and over 48 kHz; none of them upsampled)
        rate = int(rng.choice([44100, 48000, 96000]))
        x, _ = random_source(rng, rate, seconds, hires=rate > 48000)
        cases.append(Case("genuine 24", rate, 24, quantize_int(x, 24, rng), None, 24))
        cases.append(Case("genuine 16", rate, 16, quantize_int(x, 16, rng), None, 16))
        v16 = quantize_int(x, 16, rng)
        cases.append(Case("16 padded to 24", rate, 24, v16 << 8, None, 16))
        offset = int(rng.integers(1, 256))
        cases.append(Case("16 padded to 24 + offset", rate, 24, (v16 << 8) + offset, None, 16, post=f"+{offset}"))
        tpdf = rng.integers(-1, 1, v16.shape, endpoint=True) + rng.integers(-1, 1, v16.shape, endpoint=True)
        cases.append(
            Case("16 padded to 24 + TPDF at 24", rate, 24, np.clip((v16 << 8) + tpdf, -(2**23), 2**23 - 1), None, 24)
        )
    return cases


# --- running -------------------------------------------------------------------------------------
def split(ints: np.ndarray, rate: int) -> list[np.ndarray]:
    size = int(WINDOW_SECONDS * rate)
    return [ints[i : i + size] for i in range(0, len(ints) - size + 1, size)]


def run(cases: list[Case]):
    rows = []
    t_up = t_bits = 0.0
    n_hires = 0
    for c in cases:
        ints = c.ints if c.ints.ndim == 2 else c.ints[:, None]
        chunks = split(ints, c.rate)
        as_read = [(w << (32 - c.stored_bits)).astype(np.int32) for w in chunks]
        as_float = [(w / 2.0 ** (c.stored_bits - 1)).astype(np.float32) for w in chunks]
        t0 = time.perf_counter()
        got_rate = upsampled_from(as_float, c.rate)
        t1 = time.perf_counter()
        got_bits = effective_bits(as_read, c.stored_bits)
        t2 = time.perf_counter()
        if c.rate > 48000:  # at 48 kHz and below upsampled_from returns at once
            t_up += t1 - t0
            n_hires += 1
        t_bits += t2 - t1
        rows.append((c, got_rate, got_bits))
    return rows, t_up / max(n_hires, 1), t_bits / len(cases)


def name(rate):
    return "none" if rate is None else f"{rate / 1000:g}k"


def _rate_counts(sel) -> tuple[int, int]:
    """(cases where the expected rate was reported, cases where no rate was reported)."""
    return sum(r[1] == r[0].expect_rate for r in sel), sum(r[1] is None for r in sel)


def report(rows, per_class, seed, n_windows, t_up, t_bits) -> str:
    out = []
    out.append(f"{per_class} cases per class, seed {seed}, {n_windows} windows of {WINDOW_SECONDS} s per case.")
    out.append(
        "Resamplers: " + ", ".join(GOOD_RESAMPLERS)
        + "; straddling: " + (", ".join(STRADDLING_RESAMPLERS) or "none (no ffmpeg)")
        + "; slow: " + ", ".join(SLOW_RESAMPLERS) + "."
    )
    out.append("")
    # upsampling confusion
    up_classes = ["native", "from 44.1", "from 48", "from 88.2/96", "straddling", "slow"]
    cols = [None, *CANDIDATE_RATES]
    out.append("#### `upsampled_from`: reported rate per class")
    out.append("")
    out.append("| class | cases | " + " | ".join(name(c) for c in cols) + " | correct |")
    out.append("|---|---:|" + "---:|" * len(cols) + "---:|")
    for k in up_classes:
        sel = [r for r in rows if r[0].klass == k]
        if not sel:
            continue
        counts = Counter(r[1] for r in sel)
        ok, _ = _rate_counts(sel)
        out.append(
            f"| {k} | {len(sel)} | "
            + " | ".join(str(counts.get(c, 0)) for c in cols)
            + f" | {100.0 * ok / len(sel):.1f}% |"
        )
    bit_only = [r for r in rows if r[0].klass not in up_classes]
    false_up = sum(r[1] is not None for r in bit_only)
    out.append("")
    out.append(
        f"\"from 88.2/96\" counts a 96 kHz source reported as 96k (and 88.2 as 88.2k) as correct. "
        f"Bit-depth cases (not upsampled; {len(bit_only)}, a third of them at 96 kHz): "
        f"{false_up} reported as upsampled."
    )
    out.append("")
    # per resampler
    out.append("#### `upsampled_from`: correct rate per resampler")
    out.append("")
    out.append("| resampler | cases | correct | none | wrong rate |")
    out.append("|---|---:|---:|---:|---:|")
    by = defaultdict(list)
    for r in rows:
        if r[0].klass not in ("native",) and r[0].resampler != "-":
            by[r[0].resampler].append(r)
    order = [*GOOD_RESAMPLERS, *STRADDLING_RESAMPLERS, *SLOW_RESAMPLERS]
    for res, sel in sorted(by.items(), key=lambda item: order.index(item[0])):
        ok, none = _rate_counts(sel)
        if res in SLOW_RESAMPLERS and res not in ORDINARY_RESAMPLERS:
            wrong = len(sel) - none  # any rate named is a wrong call here
            out.append(f"| {res} (slow: none expected) | {len(sel)} | {ok} | {none} | {wrong} |")
        else:
            wrong = len(sel) - ok - none
            label = f"{res} (straddling)" if res in STRADDLING_RESAMPLERS else res
            out.append(f"| {label} | {len(sel)} | {ok} | {none} | {wrong} |")
    out.append("")
    out.append("#### `upsampled_from`: correct rate per post-processing (good resamplers)")
    out.append("")
    out.append("| after resampling | cases | correct | none | wrong rate |")
    out.append("|---|---:|---:|---:|---:|")
    by = defaultdict(list)
    for r in rows:
        if r[0].klass.startswith("from"):
            by[r[0].post].append(r)
    for post, sel in sorted(by.items()):
        ok, none = _rate_counts(sel)
        out.append(f"| {post} | {len(sel)} | {ok} | {none} | {len(sel) - ok - none} |")
    out.append("")
    out.append("#### `upsampled_from` on native hi-res, by kind of recording")
    out.append("")
    out.append("| native kind | cases | reported upsampled |")
    out.append("|---|---:|---:|")
    by = defaultdict(list)
    for r in rows:
        if r[0].klass == "native":
            by[r[0].post].append(r)
    for kind, sel in sorted(by.items()):
        out.append(f"| {kind} | {len(sel)} | {sum(r[1] is not None for r in sel)} |")
    out.append("")
    # bits
    out.append("#### `effective_bits`: reported bits per class")
    out.append("")
    bit_cols = [8, 16, 24, None]
    out.append("| class | stored | cases | " + " | ".join(str(b) if b else "none" for b in bit_cols) + " | as expected |")
    out.append("|---|---:|---:|" + "---:|" * len(bit_cols) + "---:|")
    by = defaultdict(list)
    for r in rows:
        key = r[0].klass if r[0].klass not in up_classes else f"upsampled, stored {r[0].stored_bits}-bit"
        if r[0].klass == "native":
            key = "native hi-res"
        by[key].append(r)
    for k, sel in by.items():
        counts = Counter(r[2] for r in sel)
        ok = sum(r[2] == r[0].expect_bits for r in sel)
        stored = sorted({r[0].stored_bits for r in sel})
        out.append(
            f"| {k} | {'/'.join(map(str, stored))} | {len(sel)} | "
            + " | ".join(str(counts.get(b, 0)) for b in bit_cols)
            + f" | {100.0 * ok / len(sel):.1f}% |"
        )
    out.append("")
    out.append(
        "\"16 padded to 24 + TPDF at 24\" is expected to read 24: the dither really uses the low "
        "bits, so padding is undecidable once dithered."
    )
    out.append("")
    out.append(
        f"Cost per file ({n_windows} windows, this machine): `upsampled_from` {1000 * t_up:.1f} ms "
        f"on average over the files above 48 kHz, `effective_bits` {1000 * t_bits:.1f} ms over all."
    )
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--windows", type=int, default=6, help="0.75 s windows per case")
    ap.add_argument("--failures", action="store_true", help="also list the cases judged wrong")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    cases = make_cases(args.per_class, args.seed, args.windows * WINDOW_SECONDS)
    rows, t_up, t_bits = run(cases)
    print(report(rows, args.per_class, args.seed, args.windows, t_up, t_bits))
    if args.failures:
        print("\n#### Cases judged wrong\n")
        print("| # | class | rate | resampler | post | expected | got | expected bits | got bits |")
        print("|---:|---|---:|---|---|---:|---:|---:|---:|")
        for i, (c, got_rate, got_bits) in enumerate(rows):
            if got_rate != c.expect_rate or got_bits != c.expect_bits:
                print(
                    f"| {i} | {c.klass} | {c.rate} | {c.resampler} | {c.post} | {name(c.expect_rate)} | "
                    f"{name(got_rate)} | {c.expect_bits} | {got_bits} |"
                )
    print(f"\n({len(cases)} cases in {time.perf_counter() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Genuine audio unlike the training corpus: music of our own synthesis through the filters
that mastering and sample-rate conversion leave, and native hi-res.

A spectral cliff is not proof of a lossy encoder: a steep linear- or minimum-phase low-pass at
15-21.5 kHz, a 32 kHz source resampled to 44.1/48 kHz, or a 48 kHz master brought down to
44.1 kHz leaves one too. These are the genuine kinds the verdict policy is calibrated on
(``bench/d25_make.py`` builds the sets; ``corpus.py --kind-shares`` can mix them into a
training corpus).

Music (``MUSIC_STYLES``), each a function ``(rng, sr, seconds) -> (n, 2) float``:
additive notes with inharmonic partials, FM bells and e-pianos, noise bursts, plucked strings
(Karplus-Strong), synthesised drum kits, electronic music (supersaw chords, bass, bright hats,
noise risers), harmonic notes with bright noise bursts, and a FluidR3_GM render of a random
song (when fluidsynth is installed). All run to the rate's Nyquist frequency.

Treatments (``KINDS``): ``full`` (as made), ``lp_linear`` (a linear-phase FIR: Kaiser, or
least-squares, 0.2-1 kHz transition), ``lp_minphase`` (that FIR made minimum phase, or an
elliptic / Chebyshev II / high-order Butterworth IIR), ``from32k`` (made at 32 kHz and
resampled up to 44.1/48 kHz: steep Kaiser or scipy's default ``resample_poly``), ``from48k``
(made at 48 kHz and brought down to 44.1 kHz by a steep filter) and ``hires`` (made at
88.2-192 kHz with content above 24 kHz).

Data making only: needs scipy (an optional extra), never imported at analysis time.
"""

from __future__ import annotations

import shutil
import tempfile
from math import gcd
from pathlib import Path

import numpy as np

KINDS = ("full", "lp_linear", "lp_minphase", "from32k", "from48k", "hires")
LOWPASS_HZ = (15000.0, 21500.0)
HIRES_RATES = (88200, 96000, 176400, 192000)
TRANSITION_HZ = (200.0, 1000.0)
FLUIDSYNTH_MAX_RATE = 96000  # steep: mastering and SRC filters, not gentle shelves


# --- music ------------------------------------------------------------------------------
def _env(n: int, sr: int, attack: float, decay: float) -> np.ndarray:
    t = np.arange(n) / sr
    return np.minimum(t / max(attack, 1e-4), 1.0) * np.exp(-t / decay)


def _place(out: np.ndarray, sound: np.ndarray, at: int, gain: float, pan: float) -> None:
    m = min(len(sound), len(out) - at)
    if m <= 0:
        return
    out[at:at + m, 0] += gain * np.sqrt(1 - pan) * sound[:m]
    out[at:at + m, 1] += gain * np.sqrt(pan) * sound[:m]


def _beats(rng, sr: int, seconds: float, lo=80, hi=160) -> tuple[int, np.ndarray]:
    beat = int(sr * 60 / rng.uniform(lo, hi))
    return beat, np.arange(0, int(seconds * sr), beat)


def _pitch(rng, lo=36, hi=84) -> float:
    return 440.0 * 2 ** ((int(rng.integers(lo, hi)) - 69) / 12)


def _bright_noise(rng, n: int, sr: int, tilt_db_oct: float = 0.0) -> np.ndarray:
    """White noise with a spectral tilt (dB/octave re 1 kHz), high-passed at 2 kHz."""
    f = np.fft.rfftfreq(n, 1 / sr)
    g = 10 ** (tilt_db_oct * np.log2(np.maximum(f, 1000) / 1000) / 20) * (f > 2000)
    return np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * g, n)


def additive(rng, sr, seconds):
    """Notes of 4-40 partials, some stretched (bells, pianos), to Nyquist."""
    n = int(seconds * sr)
    out = np.zeros((n, 2))
    beat, starts = _beats(rng, sr, seconds)
    stretch = rng.uniform(0, 0.002)
    for at in starts:
        for _ in range(int(rng.integers(1, 4))):
            f0, dur = _pitch(rng), beat * int(rng.integers(1, 4))
            t = np.arange(dur) / sr
            k = np.arange(1, int(rng.integers(4, 40)) + 1)
            fk = f0 * k * np.sqrt(1 + stretch * k**2)
            fk = fk[fk < 0.49 * sr]
            amp = fk.size and 1.0 / np.arange(1, fk.size + 1) ** rng.uniform(0.5, 1.5)
            decays = rng.uniform(0.2, 2.0) / (1 + np.arange(fk.size) * rng.uniform(0, 0.2))
            note = np.zeros(dur)
            for f, a, d in zip(fk, np.atleast_1d(amp), decays):
                note += a * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)) * np.exp(-t / d)
            _place(out, note * _env(dur, sr, 0.005, 10), at, 0.2, rng.uniform(0.1, 0.9))
    return out


def fm(rng, sr, seconds):
    """Two-operator FM voices (bells, e-pianos, brass) with bright, decaying index."""
    n = int(seconds * sr)
    out = np.zeros((n, 2))
    beat, starts = _beats(rng, sr, seconds)
    ratio = rng.choice([1.0, 1.4, 2.0, 3.5, 7.0])
    for at in starts:
        f0, dur = _pitch(rng, 48, 96), beat * int(rng.integers(1, 3))
        t = np.arange(dur) / sr
        index = rng.uniform(2, 12) * np.exp(-t / rng.uniform(0.1, 1.0))
        voice = np.sin(2 * np.pi * f0 * t + index * np.sin(2 * np.pi * f0 * ratio * t))
        _place(out, voice * _env(dur, sr, 0.002, rng.uniform(0.3, 2)), at, 0.25, rng.uniform(0.1, 0.9))
    return out


def noise_bursts(rng, sr, seconds):
    """Bursts of coloured noise between silences (electronic music's top band)."""
    n = int(seconds * sr)
    out = np.zeros((n, 2))
    beat, starts = _beats(rng, sr, seconds, 100, 180)
    for at in starts:
        for sub in range(int(rng.integers(1, 5))):
            dur = int(sr * rng.uniform(0.01, 0.3))
            burst = _bright_noise(rng, dur, sr, rng.uniform(-6, 3)) * _env(dur, sr, 0.001, rng.uniform(0.01, 0.1))
            _place(out, burst, at + sub * beat // 4, rng.uniform(0.05, 0.4), rng.uniform(0, 1))
    return out + 0.3 * additive(rng, sr, seconds) * (rng.random() < 0.5)


def plucked(rng, sr, seconds):
    """Karplus-Strong strings: a noise burst circulating in a delay line with a low-pass loop."""
    n = int(seconds * sr)
    out = np.zeros((n, 2))
    beat, starts = _beats(rng, sr, seconds, 70, 140)
    for at in starts:
        f0 = _pitch(rng, 40, 80)
        p = max(2, int(round(sr / f0)))
        periods = int(beat * 2 // p) + 1
        line = rng.uniform(-1, 1, p)
        bright = rng.uniform(0.5, 1.0)  # pick brightness: how much of the burst stays unfiltered
        loss = rng.uniform(0.990, 0.999)
        rows = np.empty((periods, p))
        for i in range(periods):
            rows[i] = line
            line = loss * (bright * line + (1 - bright) * 0.5 * (line + np.roll(line, 1)))
        _place(out, rows.ravel(), at, 0.3, rng.uniform(0.1, 0.9))
    return out


def _kick(rng, sr):
    dur = int(0.4 * sr)
    t = np.arange(dur) / sr
    f = 50 + 120 * np.exp(-t / 0.04)
    return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.15)


def _snare(rng, sr):
    dur = int(0.3 * sr)
    t = np.arange(dur) / sr
    return 0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.05) + _bright_noise(rng, dur, sr, -3) * np.exp(-t / 0.08)


def _hat(rng, sr, open_=False):
    dur = int((0.4 if open_ else 0.08) * sr)
    return _bright_noise(rng, dur, sr, rng.uniform(-2, 3)) * _env(dur, sr, 0.0005, 0.2 if open_ else 0.02)


def drums(rng, sr, seconds):
    """A synthesised kit: kick, snare, closed and open hats, on a random 16-step pattern."""
    n = int(seconds * sr)
    out = np.zeros((n, 2))
    beat, _ = _beats(rng, sr, seconds)
    step = beat // 4
    pattern = {"kick": rng.random(16) < 0.3, "snare": rng.random(16) < 0.2, "hat": rng.random(16) < 0.7,
               "open": rng.random(16) < 0.1}
    pattern["kick"][0] = pattern["hat"][2] = True
    for i, at in enumerate(range(0, n, step)):
        s = i % 16
        if pattern["kick"][s]:
            _place(out, _kick(rng, sr), at, 0.6, 0.5)
        if pattern["snare"][s]:
            _place(out, _snare(rng, sr), at, 0.4, 0.45)
        if pattern["hat"][s]:
            _place(out, _hat(rng, sr), at, rng.uniform(0.1, 0.3), 0.65)
        if pattern["open"][s]:
            _place(out, _hat(rng, sr, True), at, 0.15, 0.3)
    return out


SAW_TABLE = 8192


def _saw(f0: float, t: np.ndarray, sr: int) -> np.ndarray:
    """A band-limited sawtooth (harmonics to 0.49 sr) read from a one-period wavetable."""
    k = min(int(0.49 * sr / f0), SAW_TABLE // 2 - 1)
    spec = np.zeros(SAW_TABLE // 2 + 1, complex)
    spec[1:k + 1] = -1j / np.arange(1, k + 1)
    table = np.fft.irfft(spec, SAW_TABLE) * SAW_TABLE / 2
    pos = (f0 * t % 1.0) * SAW_TABLE
    i = pos.astype(np.int64)
    frac = pos - i
    return table[i] * (1 - frac) + table[(i + 1) % SAW_TABLE] * frac


def electronic(rng, sr, seconds):
    """Supersaw chords, a saw bass, bright hats and noise risers (all band-limited to Nyquist)."""
    n = int(seconds * sr)
    out = drums(rng, sr, seconds)
    beat, starts = _beats(rng, sr, seconds, 110, 140)
    for at in starts[::4]:
        dur = min(beat * 4, n - at)
        t = np.arange(dur) / sr
        root = _pitch(rng, 48, 60)
        chord = sum(_saw(root * 2 ** (iv / 12) * (1 + d), t, sr)
                    for iv in (0, 4 if rng.random() < 0.5 else 3, 7) for d in (-0.004, 0.0, 0.004))
        _place(out, chord * _env(dur, sr, 0.01, 3), at, 0.03, rng.uniform(0.3, 0.7))
        bass = _saw(root / 4, t, sr) * _env(dur, sr, 0.005, 0.5)
        _place(out, bass, at, 0.1, 0.5)
    if rng.random() < 0.7:
        dur = min(n, int(sr * rng.uniform(1, 3)))
        riser = _bright_noise(rng, dur, sr, 2) * np.linspace(0, 1, dur) ** 2
        _place(out, riser, int(rng.integers(0, max(1, n - dur))), 0.2, 0.5)
    return out


def harmonic_bursts(rng, sr, seconds):
    """Harmonic notes with bright noise bursts: the kind a new user tries first."""
    n = int(seconds * sr)
    out = 0.7 * additive(rng, sr, seconds)
    for at in rng.integers(0, n, int(rng.integers(5, 40))):
        dur = int(sr * rng.uniform(0.02, 0.25))
        burst = _bright_noise(rng, dur, sr, rng.uniform(-3, 4)) * _env(dur, sr, 0.001, rng.uniform(0.01, 0.08))
        _place(out, burst, int(at), rng.uniform(0.05, 0.5), rng.uniform(0, 1))
    return out


def fluidsynth_render(rng, sr, seconds):
    """A random song (chords, a melody, a bass line, drums; random GM programs) rendered
    with FluidR3_GM by fluidsynth (see training/sources)."""
    from . import sources

    bpm = float(rng.uniform(*sources.TEMPO_RANGE))
    beats = seconds * bpm / 60 + 2
    roots = [int(rng.integers(48, 60)) for _ in range(int(beats // 4) + 1)]
    chords = [(4 * i, 4, r + iv, int(rng.integers(50, 90))) for i, r in enumerate(roots) for iv in (0, 4, 7, 12)]
    step = float(rng.choice([0.5, 1.0]))
    melody = [(b, step, roots[int(b // 4)] + 12 + int(rng.choice([0, 2, 4, 5, 7, 9, 11, 12])), int(rng.integers(60, 110)))
              for b in np.arange(0, beats, step) if rng.random() < 0.8]
    bass = [(4 * i + o, 1, r - 12, 100) for i, r in enumerate(roots) for o in (0, 2)]
    programs = rng.choice(sources.MELODIC_PROGRAMS, 3, replace=False)
    tracks = [(0, int(programs[0]), chords), (1, int(programs[1]), melody), (2, int(programs[2]), bass),
              (9, 0, sources.drum_pattern(rng, beats))]
    render_sr = sr if sr <= FLUIDSYNTH_MAX_RATE else sr // 2  # fluidsynth stops at 96 kHz
    with tempfile.TemporaryDirectory(prefix="penthy_gk_") as d:
        mid = Path(d) / "song.mid"
        sources.write_midi(mid, tracks, bpm)
        x = sources.render_midi(mid, sources.FONTS["fluidr3"], render_sr, Path(d))
    if render_sr != sr:
        x = resample(x, render_sr, sr, steep=True)
    n = int(seconds * sr)
    skip = min(int(0.5 * sr), max(0, len(x) - n))
    x = x[skip:skip + n]
    return np.pad(x, ((0, n - len(x)), (0, 0))) if len(x) < n else x


MUSIC_STYLES = {"additive": additive, "fm": fm, "noise_bursts": noise_bursts, "plucked": plucked,
                "drums": drums, "electronic": electronic, "harmonic_bursts": harmonic_bursts,
                "fluidsynth": fluidsynth_render}


def fluidsynth_available() -> bool:
    from . import sources

    return bool(shutil.which("fluidsynth") and sources.FONTS["fluidr3"].is_file())


def music(style: str, rng: np.random.Generator, sr: int, seconds: float) -> np.ndarray:
    """``seconds`` of a style at ``sr``, stereo, peak normalised to 1 (silence stays 0)."""
    x = np.asarray(MUSIC_STYLES[style](rng, sr, seconds), dtype=np.float64)
    if x.ndim == 1:
        x = np.stack([x, x], axis=1)
    peak = np.max(np.abs(x))
    return x / peak if peak > 0 else x


# --- filters (scipy) --------------------------------------------------------------------------
def steep_lowpass(x: np.ndarray, sr: int, cutoff_hz: float, design: str, transition_hz: float) -> np.ndarray:
    """Low-pass ``x`` (n, channels) with a steep filter whose stopband starts at ``cutoff_hz``.

    designs: "kaiser" / "ls" (linear-phase FIR, Kaiser window or least squares),
    "minphase" (the Kaiser FIR made minimum phase), "ellip", "cheby2", "butter" (IIR).
    """
    from scipy import signal

    nyq = sr / 2.0
    pass_hz = cutoff_hz - transition_hz
    if design in ("kaiser", "ls", "minphase"):
        numtaps, beta = signal.kaiserord(100.0, transition_hz / nyq)
        numtaps |= 1
        if design == "ls":
            taps = signal.firls(numtaps, [0, pass_hz, cutoff_hz, nyq], [1, 1, 0, 0], fs=sr)
        else:
            taps = signal.firwin(numtaps, (pass_hz + cutoff_hz) / 2, window=("kaiser", beta), fs=sr)
        if design == "minphase":
            taps = signal.minimum_phase(taps, method="homomorphic", half=False)
            y = signal.oaconvolve(x, taps[:, None], mode="full", axes=0)[: len(x)]
        else:
            y = signal.oaconvolve(x, taps[:, None], mode="same", axes=0)
        return y
    if design == "ellip":
        sos = signal.ellip(10, 0.1, 90, pass_hz, fs=sr, output="sos")
    elif design == "cheby2":
        sos = signal.cheby2(12, 90, cutoff_hz, fs=sr, output="sos")
    elif design == "butter":
        sos = signal.butter(24, (pass_hz + cutoff_hz) / 2, fs=sr, output="sos")
    else:
        raise ValueError(f"unknown low-pass design {design!r}")
    return signal.sosfilt(sos, x, axis=0)


LOWPASS_DESIGNS = {"lp_linear": ("kaiser", "ls"), "lp_minphase": ("minphase", "ellip", "cheby2", "butter")}


def resample(x: np.ndarray, sr_in: int, sr_out: int, steep: bool) -> np.ndarray:
    """``resample_poly`` with a steep Kaiser filter (passband to 0.91 of the lower Nyquist,
    100 dB) or with scipy's defaults (a gentler, 40-60 dB filter)."""
    from scipy import signal

    g = gcd(sr_in, sr_out)
    up, down = sr_out // g, sr_in // g
    if not steep:
        return signal.resample_poly(x, up, down, axis=0)
    nyq = min(sr_in, sr_out) / 2.0
    fs = sr_in * up
    numtaps, beta = signal.kaiserord(100.0, 0.09 * nyq / (fs / 2))
    taps = signal.firwin(numtaps | 1, 0.955 * nyq, window=("kaiser", beta), fs=fs) * up
    return signal.resample_poly(x, up, down, window=taps, axis=0)


# --- one clip --------------------------------------------------------------------------------
def make_clip(kind: str, style: str, seed: int, seconds: float, rate: int = 44100) -> tuple[np.ndarray, int, dict]:
    """(audio at -1..-6 dBFS peak, its rate, what was done) for one genuine clip of ``kind``."""
    rng = np.random.default_rng(seed)
    info = {"kind": kind, "style": style, "seed": seed}
    if kind == "hires":
        rate = int(rng.choice(HIRES_RATES))
        x = music(style, rng, rate, seconds)
    elif kind == "from32k":
        x = resample(music(style, rng, 32000, seconds), 32000, rate, steep := bool(rng.random() < 0.6))
        info["resampler"] = "kaiser" if steep else "scipy_default"
    elif kind == "from48k":
        rate = 44100
        x = resample(music(style, rng, 48000, seconds), 48000, rate, True)
        info["resampler"] = "kaiser"
    else:
        x = music(style, rng, rate, seconds)
        if kind in LOWPASS_DESIGNS:
            design = str(rng.choice(LOWPASS_DESIGNS[kind]))
            cutoff = float(rng.uniform(*LOWPASS_HZ))
            cutoff = min(cutoff, rate / 2 - 300)
            trans = float(rng.uniform(*TRANSITION_HZ))
            x = steep_lowpass(x, rate, cutoff, design, trans)
            info.update(design=design, cutoff_hz=round(cutoff), transition_hz=round(trans))
    peak = np.max(np.abs(x)) or 1.0
    x = x / peak * 10 ** (rng.uniform(-6, -1) / 20)
    return x.astype(np.float32), rate, info

"""Genuine lossless audio from what can be installed offline: renders and real samples.

No registry serves full-band lossless recordings of mixed music, so genuine clips are made:
MIDI songs (mma grooves, music21 scores with General MIDI programs and a drum part)
rendered by fluidsynth through lossless .sf2 soundfonts, drum patterns through the
avldrums kits, real drum recordings from hydrogen-drumkits sequenced in numpy, and
sonic-pi samples mixed into loops. Every function returns float64 audio, (frames, 2).

Each generator takes a numpy Generator so a clip is reproducible from its seed.
"""

from __future__ import annotations

import functools
import os
import re
import struct
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

# --- where things live (Debian packages) -------------------------------------------
SF2_DIR = Path("/usr/share/sounds/sf2")
FONTS = {  # lossless .sf2 only: .sf3 is Vorbis inside, timgm6mb cuts off at 16.3 kHz
    "fluidr3": SF2_DIR / "FluidR3_GM.sf2",
    "musescore": SF2_DIR / "MuseScore_General_Full.sf2",
}
AVL_FONTS = (SF2_DIR / "Black_Pearl_4_LV2.sf2", SF2_DIR / "Red_Zeppelin_4_LV2.sf2")
MMA_STDLIB = Path("/usr/share/mma/lib/stdlib")
HYDROGEN_DIR = Path("/usr/share/hydrogen/data/drumkits")
HYDROGEN_EXCLUDED = ("circAfrique", "ElectricEmpire")  # these kits contain lossy cliffs
SONICPI_DIR = Path("/usr/share/sonic-pi/samples")
AUDIO_EXTS = (".wav", ".flac", ".aif", ".aiff")

# --- musical ranges -------------------------------------------------------------------
TICKS_PER_BEAT = 480
TEMPO_RANGE = (70, 170)
RENDER_SECONDS = 8.0  # enough song for a 6 s excerpt after the lead-in (rendering costs)
SUBPROCESS_TIMEOUT_S = 120
# General MIDI melodic programs that sound like instruments (no sound effects 112+).
MELODIC_PROGRAMS = tuple(range(0, 104))
SOLO_PROGRAMS = (0, 4, 6, 11, 13, 24, 25, 40, 41, 42, 56, 60, 65, 68, 71, 73, 74, 46, 19, 21)
GM_DRUMS = {"kick": 36, "snare": 38, "hat": 42, "open_hat": 46, "ride": 51, "crash": 49,
            "tom_hi": 50, "tom_mid": 47, "tom_lo": 45, "clap": 39, "tamb": 54}
CHORD_QUALITIES = ("", "m", "7", "m7", "maj7", "sus4", "6", "m6", "9", "dim")
NOTE_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
MUSIC21_MAX_BYTES = 60_000  # small scores parse in well under a second


class SourceError(RuntimeError):
    """A renderer or sample source failed; the message says which and why."""


def _run(cmd: list, what: str) -> None:
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=SUBPROCESS_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SourceError(f"{what}: {e}") from e
    if r.returncode != 0:
        raise SourceError(f"{what} failed (rc {r.returncode}): {r.stderr.decode(errors='replace')[-400:]}")


# --- resampling and loading ------------------------------------------------------------
def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Band-limited FFT resampling of (frames, ch) audio; zero padding avoids wrap-around."""
    if sr_in == sr_out:
        return x
    n = len(x)
    pad = n + n // 8 + 64
    n_out = int(round(pad * sr_out / sr_in))
    spec = np.fft.rfft(x, n=pad, axis=0)
    keep = min(spec.shape[0], n_out // 2 + 1)
    out = np.fft.irfft(spec[:keep], n=n_out, axis=0) * (n_out / pad)
    return out[: int(round(n * sr_out / sr_in))]


def stereo(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(x.T).T if x.ndim == 1 else x
    if x.shape[1] == 1:
        return np.repeat(x, 2, axis=1)
    return x[:, :2]


@functools.lru_cache(maxsize=512)
def load_sample(path: str, sr: int) -> np.ndarray:
    """A sample file as stereo float64 at ``sr`` (cached per worker)."""
    x, ssr = sf.read(path, dtype="float64", always_2d=True)
    return stereo(resample(x, ssr, sr))


# --- a minimal standard MIDI file writer -------------------------------------------------
def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def write_midi(path: Path, tracks: list, bpm: float) -> None:
    """Write a type-0 MIDI file. ``tracks``: (channel, program, [(beat, dur, pitch, vel)])."""
    events = [(0, 0, bytes([0xFF, 0x51, 0x03]) + int(60e6 / bpm).to_bytes(3, "big"))]
    for ch, prog, notes in tracks:
        events.append((0, 1, bytes([0xC0 | ch, prog & 0x7F])))
        for beat, dur, pitch, vel in notes:
            on = int(beat * TICKS_PER_BEAT)
            off = on + max(1, int(dur * TICKS_PER_BEAT))
            events.append((on, 3, bytes([0x90 | ch, int(pitch) & 0x7F, int(vel) & 0x7F])))
            events.append((off, 2, bytes([0x80 | ch, int(pitch) & 0x7F, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    body, last = b"", 0
    for tick, _, data in events:
        body += _vlq(tick - last) + data
        last = tick
    body += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_BEAT)
    path.write_bytes(header + b"MTrk" + struct.pack(">I", len(body)) + body)


# --- fluidsynth ---------------------------------------------------------------------------
def render_midi(mid: Path, font: Path, sr: int, tmp: Path) -> np.ndarray:
    """Render a MIDI file with fluidsynth to float audio (only used samples are loaded)."""
    wav = tmp / (mid.stem + f"_{sr}.wav")
    _run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-o", "synth.dynamic-sample-loading=1",
          "-o", "synth.cpu-cores=1", "-r", str(sr), "-T", "wav", "-O", "float",
          "-F", str(wav), str(font), str(mid)], f"fluidsynth {font.name}")
    x, _ = sf.read(wav, dtype="float64", always_2d=True)
    wav.unlink()
    return stereo(x)


def drum_pattern(rng: np.random.Generator, beats: float, channel_keys: dict = GM_DRUMS) -> list:
    """A plausible groove: kick/snare backbeat, hats or ride in 8ths/16ths, fills, crashes."""
    sub = int(rng.choice([2, 4]))
    steps = int(beats * sub)
    t = np.arange(steps) / sub
    notes = []
    vel = lambda n, lo, hi: rng.integers(lo, hi, n)  # noqa: E731
    cym = channel_keys["ride"] if rng.random() < 0.3 else channel_keys["hat"]
    hat_steps = t[rng.random(steps) < rng.uniform(0.6, 1.0)]
    notes += [(b, 0.2, cym, v) for b, v in zip(hat_steps, vel(len(hat_steps), 50, 110))]
    kick = t[((t % 2 == 0) | (rng.random(steps) < 0.12))]
    notes += [(b, 0.2, channel_keys["kick"], v) for b, v in zip(kick, vel(len(kick), 80, 127))]
    snare = t[(t % 2 == 1) | (rng.random(steps) < 0.05)]
    notes += [(b, 0.2, channel_keys["snare"], v) for b, v in zip(snare, vel(len(snare), 70, 127))]
    for bar in np.arange(0, beats, 4 * int(rng.integers(1, 3))):
        notes.append((float(bar), 0.5, channel_keys["crash"], int(rng.integers(80, 127))))
    if rng.random() < 0.3:
        notes += [(b, 0.2, channel_keys["open_hat"], 90) for b in t[(t % 1 == 0.5)][::2]]
    return notes


# --- mma songs --------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def mma_grooves() -> tuple:
    names = []
    for f in sorted(MMA_STDLIB.glob("*.mma")):
        names += re.findall(r"^\s*DefGroove\s+(\S+)", f.read_text(errors="replace"), re.M)
    if not names:
        raise SourceError(f"no mma grooves under {MMA_STDLIB} (apt install mma)")
    return tuple(sorted(set(names)))


def mma_song(rng: np.random.Generator, tmp: Path, one_track: bool = False,
             seconds: float = RENDER_SECONDS) -> tuple[Path, float]:
    """Random chords over a random groove and tempo; returns the MIDI file and its bpm.

    With ``one_track``, only one of the groove's pitched tracks is written (a bass line, a
    chord pad, an arpeggio...): sparse, single-instrument music.
    """
    groove = str(rng.choice(mma_grooves()))
    bpm = float(rng.integers(*TEMPO_RANGE))
    key = int(rng.integers(12))
    bars = int(np.ceil(seconds * bpm / 240)) + 1  # 4/4 bars; 3/4 and 6/8 run longer
    degrees = rng.choice([0, 2, 4, 5, 7, 9, 10], size=bars)
    lines = [f"Tempo {bpm:.0f}", f"Groove {groove}", f"Volume {rng.choice(['mf', 'f', 'ff'])}"]
    for bar, d in enumerate(degrees, 1):
        root = NOTE_NAMES[(key + int(d)) % 12]
        lines.append(f"{bar} {root}{rng.choice(CHORD_QUALITIES)}")
    src, mid = tmp / "song.mma", tmp / "song.mid"
    src.write_text("\n".join(lines) + "\n")
    only = ["-T", str(rng.choice(mma_pitched_tracks(src)))] if one_track else []
    _run(["mma", *only, "-f", str(mid), str(src)], f"mma groove {groove}")
    if not mid.exists():
        raise SourceError(f"mma wrote no MIDI for groove {groove}")
    return mid, bpm


def mma_pitched_tracks(src: Path) -> list[str]:
    """The tracks an mma song gives a MIDI channel, drums left out (from ``mma -c``)."""
    r = subprocess.run(["mma", "-w", "-c", str(src)], capture_output=True, timeout=SUBPROCESS_TIMEOUT_S)
    text = r.stdout.decode(errors="replace").split("Channel assignments:")[-1]
    names = re.findall(r"^\s*\d+\s+(\S+)\s*$", text, re.M)
    names = [n for n in names if not n.upper().startswith("DRUM")]
    if not names:
        raise SourceError(f"mma gave {src.name} no pitched track")
    return names


# --- music21 scores -----------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def music21_paths() -> dict:
    """Small corpus scores grouped by composer (so Palestrina does not dominate)."""
    from music21 import corpus

    by = {}
    for p in corpus.getPaths():
        if os.path.getsize(p) <= MUSIC21_MAX_BYTES:
            comp = str(p).split("/corpus/")[-1].split("/")[0]
            by.setdefault(comp, []).append(str(p))
    return by


@functools.lru_cache(maxsize=64)
def music21_parts(path: str) -> tuple:
    """Each part of a score as a tuple of (beat, dur, pitch) in quarter notes."""
    from music21 import converter, stream

    s = converter.parse(path)
    if isinstance(s, stream.Opus):
        s = s.scores[0]
    parts = []
    for part in s.parts or [s]:
        notes = []
        for n in part.flatten().notes:
            for p in getattr(n, "pitches", ()):
                notes.append((float(n.offset), float(n.quarterLength) or 0.5, int(p.midi)))
        if notes:
            parts.append(tuple(notes))
    return tuple(parts)


def music21_song(rng: np.random.Generator, tmp: Path, solo: bool,
                 seconds: float = RENDER_SECONDS) -> tuple[Path, float]:
    """A score excerpt with GM programs (and, unless solo, a generated drum part)."""
    by = music21_paths()
    for _ in range(8):
        comp = str(rng.choice(sorted(by)))
        try:
            parts = music21_parts(str(rng.choice(by[comp])))
        except Exception:  # a few corpus files do not parse: try another
            continue
        if parts:
            break
    else:
        raise SourceError("no music21 score with notes found")
    bpm = float(rng.integers(60, 150))
    span = seconds * bpm / 60
    end = max(n[0] for p in parts for n in p)
    start = float(rng.uniform(0, max(0.0, end - span)))
    chosen = [parts[int(rng.integers(len(parts)))]] if solo else list(parts[:5])
    tracks = []
    for ch, part in enumerate(chosen):
        prog = int(rng.choice(SOLO_PROGRAMS if solo else MELODIC_PROGRAMS))
        shift = int(rng.choice([-12, 0, 0, 12])) if not solo else 0
        notes = [(b - start, d, p + shift, int(rng.integers(60, 115)))
                 for b, d, p in part if start <= b < start + span]
        tracks.append((ch, prog, notes))
    if not solo:
        tracks.append((9, 0, drum_pattern(rng, span)))
    mid = tmp / "score.mid"
    write_midi(mid, tracks, bpm)
    return mid, bpm


def avldrums_song(rng: np.random.Generator, tmp: Path) -> tuple[Path, Path]:
    """A drum pattern for the avldrums kits (their preset sits on bank 0, so channel 0)."""
    bpm = float(rng.integers(*TEMPO_RANGE))
    beats = RENDER_SECONDS * bpm / 60
    mid = tmp / "drums.mid"
    write_midi(mid, [(0, 0, drum_pattern(rng, beats))], bpm)
    return mid, Path(AVL_FONTS[int(rng.integers(len(AVL_FONTS)))])


# --- hydrogen kits --------------------------------------------------------------------------
HYDROGEN_ROLES = {  # filename keywords -> role in a pattern
    "kick": ("kick", "bd", "bass", "kik"),
    "snare": ("snare", "sd", "sn", "clap", "rim"),
    "hat": ("hat", "hh", "chh", "ohh", "shaker", "shake"),
    "cymbal": ("crash", "ride", "china", "splash", "cym", "cc", "rc", "bell"),
    "tom": ("tom", "ft", "conga", "bongo", "cajon"),
}


@functools.lru_cache(maxsize=1)
def hydrogen_kits() -> dict:
    """kit -> role -> sample paths, from file names (unknown names become 'perc')."""
    kits = {}
    for kit in sorted(p for p in HYDROGEN_DIR.iterdir() if p.is_dir()):
        if any(x in kit.name for x in HYDROGEN_EXCLUDED):
            continue
        roles = {}
        for f in sorted(kit.iterdir()):
            if f.suffix.lower() not in AUDIO_EXTS or "empty" in f.name.lower():
                continue
            words = re.split(r"[^a-z]+", f.stem.lower())
            role = next((r for r, keys in HYDROGEN_ROLES.items()
                         if any(w.startswith(k) for w in words for k in keys)), "perc")
            roles.setdefault(role, []).append(str(f))
        if len(roles) >= 2:
            kits[kit.name] = roles
    if not kits:
        raise SourceError(f"no hydrogen kits under {HYDROGEN_DIR} (apt install hydrogen-drumkits)")
    return kits


def place(out: np.ndarray, sample: np.ndarray, at: int, gain: float, pan: float) -> None:
    """Add a sample into ``out`` at frame ``at`` with equal-power panning."""
    if at >= len(out):
        return
    seg = sample[: len(out) - at]
    lr = np.array([np.cos(pan * np.pi / 2), np.sin(pan * np.pi / 2)]) * np.sqrt(2)
    out[at: at + len(seg)] += seg * gain * lr


def sequence(rng: np.random.Generator, roles: dict, sr: int, seconds: float) -> np.ndarray:
    """Sequence one-shot samples (role -> paths) into a groove at a random tempo."""
    bpm = float(rng.integers(*TEMPO_RANGE))
    pattern = drum_pattern(rng, seconds * bpm / 60,
                           {**GM_DRUMS, "hat": "hat", "ride": "cymbal", "crash": "cymbal",
                            "kick": "kick", "snare": "snare", "open_hat": "hat"})
    out = np.zeros((int(seconds * sr), 2))
    pick = {r: str(rng.choice(p)) for r, p in roles.items()}
    pans = {r: float(rng.uniform(0.2, 0.8)) for r in roles}
    fallback = [r for r in roles if r not in ("kick", "snare")] or list(roles)
    for beat, _, role, vel in pattern:
        if not isinstance(role, str):
            continue
        r = role if role in roles else str(rng.choice(fallback))
        jitter = int(rng.normal(0, 0.004) * sr)
        place(out, load_sample(pick[r], sr), max(0, int(beat * 60 / bpm * sr) + jitter),
              (vel / 127) ** 1.5, pans[r])
    for r in [r for r in ("tom", "perc") if r in roles]:  # a few extra hits
        for _ in range(int(rng.integers(0, 6))):
            place(out, load_sample(str(rng.choice(roles[r])), sr), int(rng.uniform(0, seconds) * sr),
                  float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.1, 0.9)))
    return out


def hydrogen_loop(rng: np.random.Generator, sr: int, seconds: float) -> np.ndarray:
    kits = hydrogen_kits()
    kit = str(rng.choice(sorted(kits)))
    return sequence(rng, kits[kit], sr, seconds)


# --- sonic-pi samples -------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def sonicpi_samples() -> dict:
    """Prefix (loop, bd, sn, drum, elec, perc, ambi, bass, guit, tabla...) -> paths."""
    by = {}
    for f in sorted(SONICPI_DIR.glob("*.flac")):
        by.setdefault(f.name.split("_")[0], []).append(str(f))
    if not by:
        raise SourceError(f"no samples under {SONICPI_DIR} (apt install sonic-pi-samples)")
    return by


def sonicpi_loop(rng: np.random.Generator, sr: int, seconds: float) -> np.ndarray:
    """A loop sample tiled, or one-shots sequenced, plus an optional ambient/bass layer."""
    by = sonicpi_samples()
    n = int(seconds * sr)
    if "loop" in by and rng.random() < 0.5:
        x = load_sample(str(rng.choice(by["loop"])), sr)
        out = np.tile(x, (n // max(1, len(x)) + 1, 1))[:n].copy()
    else:
        roles = {"kick": by.get("bd", []), "snare": by.get("sn", []) + by.get("elec", []),
                 "hat": by.get("drum", []) + by.get("perc", []), "perc": by.get("tabla", []) + by.get("glitch", []),
                 "cymbal": by.get("drum", [])}
        out = sequence(rng, {r: p for r, p in roles.items() if p}, sr, seconds)
    for layer in ("ambi", "bass", "guit"):
        if layer in by and rng.random() < 0.25:
            place(out, load_sample(str(rng.choice(by[layer])), sr), int(rng.uniform(0, 0.5) * n),
                  float(rng.uniform(0.2, 0.7)), float(rng.uniform(0.2, 0.8)))
    return out

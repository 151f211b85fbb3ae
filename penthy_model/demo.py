"""A self-contained demonstration: genuine and transcoded albums, imported into beets.

    python -m penthy_model.demo [--keep DIR]

Makes two small albums of generated music (notes with harmonics, hi-hats and a kick,
full band to Nyquist): one left lossless, one turned into MP3, Vorbis and Opus and
decoded back to FLAC. It then imports both into a fresh beets library with the penthy
plugin on (``auto: yes``) and shows what the plugin stored and what the queries find.
Nothing outside the temporary folder is touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 44100
FAKES = (  # (title, soundfile format, soundfile keyword arguments)
    ("MP3 128k", "MP3", {"bitrate_mode": "CONSTANT", "compression_level": 1 - (128 - 32) / 288}),
    ("MP3 V2", "MP3", {"bitrate_mode": "VARIABLE", "compression_level": 0.2}),
    ("Vorbis q3", "OGG", {"subtype": "VORBIS", "compression_level": 0.7}),
    ("MP3 320k", "MP3", {"bitrate_mode": "CONSTANT", "compression_level": 0.0}),
)


def _noise(rng: np.random.Generator, n: int, channels: int) -> np.ndarray:
    return rng.standard_normal((n, channels)).astype(np.float32)


def music(seconds: float, sr: int = SAMPLE_RATE, channels: int = 2, seed: int = 0, amplitude: float = 0.5) -> np.ndarray:
    """A few bars of generated music, float32 (n, channels), peak at ``amplitude``.

    Notes are sums of decaying harmonics; hi-hats are bursts of high-passed noise with a
    fast decay (they carry the content above 16 kHz, as cymbals do in real music); a kick
    drum is a falling sine. Panning differs per voice so the side channel is not empty.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros((n, channels), np.float32)
    beat = int(sr * 60 / rng.uniform(90, 140))
    t_note = np.arange(beat * 2) / sr
    for start in range(0, n, beat):
        f0 = 110 * 2 ** (rng.integers(0, 24) / 12)
        k = np.arange(1, 12)[:, None]
        note = (np.sin(2 * np.pi * f0 * k * t_note) / k**1.2).sum(0) * np.exp(-3 * t_note)
        seg = note[: n - start].astype(np.float32)
        pan = rng.uniform(0.2, 0.8)
        out[start:start + len(seg), 0] += 0.3 * pan * seg
        out[start:start + len(seg), -1] += 0.3 * (1 - pan) * seg
    hat_len = int(0.08 * sr)
    env = np.exp(-np.arange(hat_len) / (0.015 * sr)).astype(np.float32)[:, None]
    for start in range(0, n - hat_len, beat // 2):
        burst = np.diff(_noise(rng, hat_len + 1, channels), axis=0) * env  # differencing tilts it up
        out[start:start + hat_len] += rng.uniform(0.05, 0.15) * burst
    kick_len = int(0.25 * sr)
    tk = np.arange(kick_len) / sr
    kick = (np.sin(2 * np.pi * (50 + 80 * np.exp(-tk * 25)) * tk) * np.exp(-tk * 12)).astype(np.float32)
    for start in range(0, n - kick_len, beat * 2):
        out[start:start + kick_len] += 0.5 * kick[:, None]
    out += 1e-4 * _noise(rng, n, channels)  # a little room noise
    return (out / np.abs(out).max() * amplitude).astype(np.float32)


def lossy_round_trip(x: np.ndarray, sr: int, fmt: str, options: dict, tmp: Path) -> np.ndarray:
    """Encode with libsndfile's encoders and decode back: what a transcoded FLAC holds."""
    path = tmp / f"lossy.{fmt.lower()}"
    with sf.SoundFile(str(path), "w", sr, x.shape[1], format=fmt, **options) as f:
        for i in range(0, len(x), 16384):  # one big Vorbis write can crash libsndfile
            f.write(x[i:i + 16384])
    y, _ = sf.read(str(path), dtype="float32", always_2d=True)
    path.unlink()
    return y


def _tag(path: Path, artist: str, album: str, title: str, track: int) -> None:
    from mediafile import MediaFile

    m = MediaFile(str(path))
    m.artist, m.album, m.albumartist, m.title, m.track, m.year = artist, album, artist, title, track, 2026
    m.save()


def make_albums(folder: Path, seconds: float = 20.0) -> tuple[Path, Path]:
    genuine, suspect = folder / "Genuine Album", folder / "Suspect Album"
    genuine.mkdir(parents=True)
    suspect.mkdir(parents=True)
    for i, (title, fmt, opts) in enumerate(FAKES, 1):
        x = music(seconds, seed=i)
        real = genuine / f"{i:02d} Track {i}.flac"
        sf.write(str(real), x, SAMPLE_RATE, subtype="PCM_16")
        _tag(real, "Demo Artist", "Genuine Album", f"Track {i}", i)
        fake = suspect / f"{i:02d} {title}.flac"
        y = music(seconds, seed=100 + i)
        sf.write(str(fake), lossy_round_trip(y, SAMPLE_RATE, fmt, opts, folder), SAMPLE_RATE, subtype="PCM_16")
        _tag(fake, "Demo Artist", "Suspect Album", f"was {title}", i)
    return genuine, suspect


def beet(beetsdir: Path, *args: str) -> str:
    env = dict(os.environ, BEETSDIR=str(beetsdir))
    proc = subprocess.run([sys.executable, "-m", "beets", *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"beet {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    noise = ("Created database backup",)  # beets' one-off schema migrations of a new library
    return "\n".join(line for line in (proc.stdout + proc.stderr).splitlines() if not line.startswith(noise))


def run(folder: Path) -> None:
    beetsdir = folder / "beets"
    beetsdir.mkdir()
    (beetsdir / "config.yaml").write_text(
        f"directory: {folder / 'library'}\nlibrary: {beetsdir / 'library.db'}\n"
        "plugins: penthy\nimport:\n  copy: no\n  write: no\n  autotag: no\n"
        "penthy:\n  auto: yes\n  threads: 2\n")
    print("Making two albums of generated music (the second one transcoded) ...")
    genuine, suspect = make_albums(folder / "incoming")
    for album in (genuine, suspect):
        print(f"\n$ beet import -A '{album.name}'")
        print(beet(beetsdir, "import", "-A", "-q", str(album)).strip())
    for args in (("ls", "-f", "$penthy  $penthy_verdict  $penthy_cutoff Hz  $album / $title"),
                 ("ls", "penthy:..0.5"),
                 ("ls", "-a", "-f", "$album: lowest score $penthy_min, share transcoded $penthy_transcoded")):
        print(f"\n$ beet {' '.join(repr(a) if ' ' in a else a for a in args)}")
        print(beet(beetsdir, *args).strip())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", type=Path, help="work in this (new) folder and keep it, instead of a temporary one")
    args = ap.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True)
        run(args.keep)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="penthy-demo-"))
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

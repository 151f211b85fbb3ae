"""Print the README's example of the command line's output, made afresh.

    python bench/readme_example.py [--picture docs/plot-example.png]

Builds the demo's albums (``penthy_model.demo.make_albums``), plus its Track 2 through a
gentle 4th-order low-pass at 11 kHz ("Dull Master", as an old master might sound) and
through a steep one at 16 kHz ("Steep Master", as a 32 kHz source or a hard mastering
filter leaves), runs ``penthy`` on four of them and prints what it printed, so the figures
in the README come from the code and the model of the day. ``--picture PATH`` also draws
the README's picture (``--plot``) of the suspect album's 128 kbit/s MP3 to PATH.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from penthy_model.demo import make_albums  # noqa: E402


def low_pass(x: np.ndarray, sr: int, cutoff_hz: float, order: int) -> np.ndarray:
    """A Butterworth-shaped magnitude response applied in the frequency domain (zero phase)."""
    f = np.fft.rfftfreq(len(x), 1 / sr)
    gain = 1.0 / np.sqrt(1.0 + (f / cutoff_hz) ** (2 * order))
    return np.fft.irfft(np.fft.rfft(x, axis=0) * gain[:, None], len(x), axis=0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--picture", type=Path, help="also draw the MP3 128k's picture to this PNG")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        genuine, suspect = make_albums(folder)
        track2 = genuine / "02 Track 2.flac"
        x, sr = sf.read(str(track2))
        sf.write(str(folder / "Dull Master.flac"), low_pass(x, sr, 11000.0, 4), sr, subtype="PCM_16")
        sf.write(str(folder / "Steep Master.flac"), low_pass(x, sr, 16000.0, 48), sr, subtype="PCM_16")
        names = ["Dull Master.flac", "Steep Master.flac", "Genuine Album/01 Track 1.flac",
                 "Suspect Album/01 MP3 128k.flac", "Suspect Album/04 MP3 320k.flac"]
        done = subprocess.run([sys.executable, "-m", "penthy_model.cli", *names], cwd=folder, text=True,
                              capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        summary = [line for line in done.stderr.splitlines() if " files in " in line]
        print(done.stdout + "\n".join(summary))
        if a.picture:
            subprocess.run([sys.executable, "-m", "penthy_model.cli", "--plot", "pictures",
                            "Suspect Album/01 MP3 128k.flac"], cwd=folder, capture_output=True,
                           env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
            (png,) = (folder / "pictures").glob("*.png")
            shutil.copyfile(png, a.picture)
            print(f"picture: {a.picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

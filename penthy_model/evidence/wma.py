"""The WMA (Windows Media Audio 1/2) frame grid.

WMA codes blocks of up to 2048 new samples (at 32-48 kHz; 4096 above) with an MDCT over
twice that under a sine window, and quantises every coefficient of a frame with one global
step times a band envelope: at the coder's alignment many coefficients come back with
exactly equal sizes (the same level in the same band) or as nothing but decode noise.
ffmpeg's ``wmav2`` encoder codes every frame in full-length blocks, and its decoder puts the
grid at sample 0 of the file (``GRID.known``; measured at 44.1 and 48 kHz). A search over
all 2048 alignments would cost a full MDCT per sample, so only the known alignment is
confirmed: a decoder that shifts the grid is not seen (the spectrum model still judges it).
As for AC3, the z is the lowest left when any one confirmed window is taken out (the
shared confirmation's ``every_window``): one odd stretch must not carry the file.
See :mod:`penthy_model.evidence.mdctgrid` for the confirmation and its z.
"""

from __future__ import annotations

import numpy as np

from penthy_model.evidence.mdctgrid import Grid, sine_window
from penthy_model.evidence.mdctgrid import measure as _measure

CODEC = "wma"


def grid_for(sample_rate: int) -> Grid:
    """WMA's full-length block at ``sample_rate`` (2048 new samples up to 48 kHz, else 4096)."""
    hop = 2048 if sample_rate <= 48000 else 4096
    return Grid(CODEC, block=2 * hop, hop=hop, window=sine_window(2 * hop), scan_windows=0,
                confirm_step=3, confirm_blocks=1, confirm_windows=12, baseline=12, known=(0,))


GRID = grid_for(44100)


def measure(samples: np.ndarray, starts: list[int], sample_rate: int,
            thorough: bool = False) -> tuple[float, int | None]:
    """(z, alignment) of the WMA block grid at its known alignment; see ``mdctgrid.measure``.
    ``thorough`` changes nothing: only the known alignment is ever measured."""
    return _measure(samples, starts, sample_rate, grid_for(sample_rate))

"""The WMA (Windows Media Audio 1/2) frame grid.

WMA codes blocks of up to 2048 new samples (over 22.05 kHz up to 48 kHz; 1024 over 16 kHz up
to 22.05 kHz, 512 at 16 kHz and under: FFmpeg's ``ff_wma_get_frame_len_bits``) with an MDCT over
twice that under a sine window, and quantises every coefficient of a frame with one global
step times a band envelope: at the coder's alignment many coefficients come back with
exactly equal sizes (the same level in the same band) or as nothing but decode noise.
ffmpeg's ``wmav2`` encoder codes every frame in full-length blocks, and its decoder puts the
grid at sample 0 of the file (``GRID.known``; measured at 8-48 kHz). A search over all
alignments would cost a full MDCT per sample, so only the known alignment is confirmed: a
decoder that shifts the grid is not seen (the spectrum model still judges it). As for AC3,
the z is the lowest left when any one confirmed window is taken out (the shared
confirmation's ``every_window``): one odd stretch must not carry the file; and the grid must
stand above its own alignment shifted by a quarter, half and three quarters of a frame (a
saw of 1152 samples under music at 8 kHz read 9.1 at 0 and as much there, a coder's grid
is one spike). A thorough look confirms 4 blocks of each alignment a window, not 1.
See :mod:`penthy_model.evidence.mdctgrid` for the confirmation and its z.
"""

from __future__ import annotations

import numpy as np

from penthy_model.evidence.mdctgrid import Grid, sine_window
from penthy_model.evidence.mdctgrid import measure as _measure

CODEC = "wma"


def frame_length(sample_rate: int) -> int:
    """New samples in WMA's full-length block at ``sample_rate``."""
    if sample_rate <= 16000:
        return 512
    if sample_rate <= 22050:
        return 1024
    return 2048 if sample_rate <= 48000 else 4096


def grid_for(sample_rate: int, thorough: bool = False) -> Grid:
    """WMA's full-length block at ``sample_rate``, confirmed at its known alignment."""
    hop = frame_length(sample_rate)
    return Grid(CODEC, block=2 * hop, hop=hop, window=sine_window(2 * hop), scan_windows=0,
                confirm_step=3, confirm_blocks=4 if thorough else 1, confirm_windows=12, baseline=12, known=(0,),
                congruent=(hop // 4, hop // 2, 3 * hop // 4))


GRID = grid_for(44100)


def measure(samples: np.ndarray, starts: list[int], sample_rate: int,
            thorough: bool = False) -> tuple[float, int | None]:
    """(z, alignment) of the WMA block grid at its known alignment; see ``mdctgrid.measure``.
    ``thorough`` reads more blocks, not more alignments: only the known one is ever measured."""
    return _measure(samples, starts, sample_rate, grid_for(sample_rate, thorough))

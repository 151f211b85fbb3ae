"""The AC3 (Dolby Digital, and E-AC3's AC3-style frames) block grid.

AC3 codes each channel in blocks of 256 new samples: an MDCT of 512 samples under the
Kaiser-Bessel-derived window of alpha 5, every 256 samples (six blocks to a 1536-sample
frame; a transient switches a block to two 256-sample transforms, which just adds nothing
here). Each coefficient is stored as a mantissa, quantised with a step set by the bit
allocation, times a power of two (its exponent): at the coder's alignment many coefficients
come back as nothing but decode noise, and neighbours of the same exponent and mantissa
with exactly equal sizes, even at 384 kbit/s and more, where the spectrum model hears almost nothing.
ffmpeg's decoder keeps the encoder's delay, which puts the grid at 0 (known).
Stereo is coded as left/right or, band by band, mid/side (rematrixing); left and right show
the grid as well as all four (measured) at half the cost. See :mod:`penthy_model.evidence.mdctgrid` for the two looks and the z.
"""

from __future__ import annotations

import numpy as np

from penthy_model.evidence.mdctgrid import Grid, kbd_window
from penthy_model.evidence.mdctgrid import measure as _measure

CODEC = "ac3"
# The asymmetric quantisers' lattice: a coefficient coded with an exponent and a k-bit
# mantissa comes back (in 16-bit steps, under this orthonormal MDCT) as a multiple of
# sqrt(2) * 2^j for some whole j (measured: the phase peaks at exactly half an octave on
# AC3 and E-AC3 decodes at 192-640 kbit/s, 44.1 and 48 kHz).
LATTICE = 2.0 * np.sqrt(2.0)
GRID = Grid(CODEC, block=512, hop=256, window=kbd_window(512, 5.0), scan_windows=1,
            confirm_step=2, confirm_blocks=6, known=(0,), lattice=LATTICE)


def measure(samples: np.ndarray, starts: list[int], sample_rate: int) -> tuple[float, int | None]:
    """(z, alignment mod 256) of the AC3 block grid; see ``mdctgrid.measure``."""
    return _measure(samples, starts, sample_rate, GRID)

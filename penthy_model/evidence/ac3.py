"""The AC3 (Dolby Digital, and E-AC3's AC3-style frames) block grid.

AC3 codes each channel in blocks of 256 new samples: an MDCT of 512 samples under the
Kaiser-Bessel-derived window of alpha 5, every 256 samples (six blocks to a 1536-sample
frame; a transient switches a block to two 256-sample transforms, which just adds nothing
here). Each coefficient is stored as a mantissa, quantised with a step set by the bit
allocation, times a power of two (its exponent): at the coder's alignment many coefficients
come back as nothing but decode noise, and neighbours of the same exponent and mantissa
with exactly equal sizes, even at 384 kbit/s and more, where the spectrum model hears almost nothing.
At 448-640 kbit/s on sparse music few coefficients are zeroed, but the mantissas still show:
a coefficient coded with an exponent and a k-bit (asymmetric) mantissa comes back as a whole
multiple of a power-of-two step whose scale the standard fixes, so at the coder's alignment
the coefficients sit on that lattice (``mdctgrid.lattice_sums``); the z is the larger of the
two signs. Where the decode is all but the source (sparse music at 640 kbit/s: 96-98% of the
samples come back unchanged), nothing in it can tell. Blocks of a waveform that repeats in
whole hops (a square wave of 64 samples) are not counted: every one of them would show the
same exact zeros at one alignment (``mdctgrid.repeating``).
ffmpeg's decoder keeps the encoder's delay, which puts the grid at 0 (known).
Stereo is coded as left/right or, band by band, mid/side (rematrixing); left and right show
the grid as well as all four (measured) at half the cost. See
:mod:`penthy_model.evidence.mdctgrid` for the two looks and the z.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from penthy_model.evidence.mdctgrid import Grid, kbd_window
from penthy_model.evidence.mdctgrid import measure as _measure

CODEC = "ac3"
# The rates AC3 codes at (32, 44.1, 48 kHz), and E-AC3's reduced rates: at any other rate a
# block grid of 256 samples is something else (a wave of 512 samples under music at 8 kHz).
RATES = frozenset({16000, 22050, 24000, 32000, 44100, 48000})
# The asymmetric quantisers' lattice: a coefficient coded with an exponent and a k-bit
# mantissa comes back (in 16-bit steps, under this orthonormal MDCT) as a multiple of
# sqrt(2) * 2^j for some whole j (measured: the phase peaks at exactly half an octave on
# AC3 and E-AC3 decodes at 192-640 kbit/s, 44.1 and 48 kHz).
LATTICE = 2.0 * np.sqrt(2.0)
# Every alignment found, the known one included, must stand above its shifts by a quarter,
# half and three quarters of a hop: a square wave of 32 or 64 samples under music showed z
# 40-65 at an alignment the wider scan found, one of 256 or 512 samples z 13-16 at 0, and as
# much at those shifts, where a coder's grid is one spike.
GRID = Grid(CODEC, block=512, hop=256, window=kbd_window(512, 5.0), scan_windows=1,
            confirm_step=2, confirm_blocks=6, known=(0,), lattice=LATTICE, repeats=4, congruent=(64, 128, 192))
# For files the network leaves undecided: the scan reads six windows, not one, so that a
# decode the known decoders did not align (a trimmed start) is found from sparse music too,
# and at 44.1 and 48 kHz the confirmation reads 40 blocks of each alignment a window, not 6.
# Under 44.1 kHz every file is read thoroughly (the network reads nothing there), and with 40
# blocks a Vorbis decode at 22.05 kHz read 9.0 at AC3's grid: there it stays at 6.
THOROUGH = replace(GRID, scan_windows=6, confirm_blocks=40)
THOROUGH_RATES = frozenset({44100, 48000})
THOROUGH_LOW = replace(GRID, scan_windows=6)


def measure(samples: np.ndarray, starts: list[int], sample_rate: int,
            thorough: bool = False) -> tuple[float, int | None]:
    """(z, alignment mod 256) of the AC3 block grid; see ``mdctgrid.measure``. Not measured
    (NaN, None) at a rate AC3 does not code at."""
    if sample_rate not in RATES:
        return float("nan"), None
    if not thorough:
        return _measure(samples, starts, sample_rate, GRID)
    return _measure(samples, starts, sample_rate, THOROUGH if sample_rate in THOROUGH_RATES else THOROUGH_LOW)

"""Effective bit depth of integer PCM: how many of the stored bits the samples really use.

A 24-bit file made by padding 16-bit audio with zeros has its low 8 bits at zero in every
sample. The engine reads integer files with ``soundfile.read(..., dtype="int32")``, which
left-justifies every stored depth into 32 bits (a 16-bit value ``v`` arrives as ``v << 16``,
a 24-bit one as ``v << 8``, an 8-bit one as ``v << 24``), so the test is the same for every
depth: OR together the bits that change from sample to sample and count the trailing zeros.

What "effective bits" means here is *resolution* (the position of the lowest bit in use),
not loudness: a quiet genuine 24-bit recording still reports 24.

Padding with a constant offset (low bits fixed at a value other than zero, e.g. 16-bit
audio with a DC offset of half a 16-bit step added at 24 bits) is caught for free: the
samples are XOR-ed with one reference sample before the OR, so any low bits that never
change count as unused, whatever their value.

Undecidable: padding followed by dither (or any processing that touches the low bits:
gain, EQ, resampling) really does use every bit, and this function then reports the
stored depth. With TPDF dither of one 16-bit step the result is statistically identical to
a genuine 24-bit recording of the same music (the dither's characteristic function is
zero at the 16-bit lattice frequency, so not even the histogram keeps a trace). See
docs/hires.md.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

# soundfile's dtype="int32" puts every stored depth in the top bits of a 32-bit word.
CONTAINER_BITS = 32


def varying_bits(windows: Sequence[np.ndarray]) -> int:
    """Bit mask (as a 32-bit unsigned int) of the bits that differ between any two samples.

    Every sample of every window is XOR-ed with the first sample of the first non-empty
    window and the results are OR-ed together; a bit is set in the mask when it is not
    constant over all the samples. All windows and channels are pooled.
    """
    mask = 0
    reference = None
    for window in windows:
        data = np.asarray(window)
        if data.size == 0:
            continue
        if data.dtype != np.int32:
            # Other integer widths are not left-justified the way this relies on.
            raise TypeError(
                f"effective bit depth needs int32 samples as read by "
                f"soundfile.read(..., dtype='int32'), got {data.dtype}"
            )
        # Reinterpret the two's-complement bit patterns as unsigned: the XOR/OR below
        # then works on the raw bits, and the sign never matters for trailing zeros.
        bits = data.view(np.uint32).ravel()
        if reference is None:
            reference = bits[0]
        mask |= int(np.bitwise_or.reduce(bits ^ reference))
    return mask


def effective_bits(windows: Sequence[np.ndarray], stored_bits: int) -> int | None:
    """Number of significant bits the samples use, at most ``stored_bits``.

    ``windows`` are int32 arrays of shape (frames, channels) or (frames,), read with
    ``soundfile.read(..., dtype="int32")`` (samples left-justified in 32 bits).
    ``stored_bits`` is the container's declared depth (8, 16, 24 or 32).

    Returns ``stored_bits`` for audio that uses every bit, fewer for padded audio (a
    24-bit file whose low 8 bits never change returns 16), and None when no bit ever
    changes (digital silence, a constant DC level, or no samples at all).
    """
    if not 1 <= stored_bits <= CONTAINER_BITS:
        raise ValueError(f"stored_bits must be between 1 and {CONTAINER_BITS}, got {stored_bits}")
    mask = varying_bits(windows)
    if mask == 0:
        return None
    # mask & -mask isolates the lowest set bit; its index is the number of trailing zeros.
    trailing_zeros = (mask & -mask).bit_length() - 1
    return min(CONTAINER_BITS - trailing_zeros, stored_bits)

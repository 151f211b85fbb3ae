"""Effective bit depth: padded, genuine, dithered, silent, and real FLAC files read back."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from penthy_model.bitdepth import effective_bits, varying_bits

RATE = 44100
FRAMES = 33075  # one 0.75 s window


def _noise(rng: np.random.Generator, bits: int, channels: int = 2, level: float = 0.25) -> np.ndarray:
    """Gaussian noise quantized to ``bits`` (integer values in that depth's range)."""
    top = 2 ** (bits - 1)
    x = rng.normal(0.0, level * top, (FRAMES, channels))
    return np.clip(np.round(x), -top, top - 1).astype(np.int64)


def _as_read(values: np.ndarray, bits: int) -> np.ndarray:
    """What soundfile.read(dtype='int32') returns for a ``bits``-deep file: left-justified."""
    return (values << (32 - bits)).astype(np.int32)


def test_padded_16_in_24_reports_16():
    rng = np.random.default_rng(1)
    padded = _noise(rng, 16) << 8  # 16-bit audio stored in a 24-bit container
    assert effective_bits([_as_read(padded, 24)], 24) == 16


def test_genuine_24_bit_noise_reports_24():
    rng = np.random.default_rng(2)
    assert effective_bits([_as_read(_noise(rng, 24), 24)], 24) == 24


def test_quiet_genuine_24_bit_still_reports_24():
    # Resolution, not loudness: a -90 dBFS (RMS) 24-bit signal still uses its lowest bit.
    rng = np.random.default_rng(3)
    quiet = _noise(rng, 24, level=3e-5)
    assert np.abs(quiet).max() < 2**11  # ~ -72 dBFS peaks
    assert effective_bits([_as_read(quiet, 24)], 24) == 24


def test_16_bit_with_tpdf_dither_at_24_bit_reports_24():
    # Undecidable by design: the dither really uses the low bits (see docs/hires.md).
    rng = np.random.default_rng(4)
    padded = _noise(rng, 16) << 8
    tpdf = rng.integers(-1, 1, padded.shape, endpoint=True) + rng.integers(
        -1, 1, padded.shape, endpoint=True
    )
    dithered = np.clip(padded + tpdf, -(2**23), 2**23 - 1)
    assert effective_bits([_as_read(dithered, 24)], 24) == 24


def test_8_bit_content():
    rng = np.random.default_rng(5)
    eight = _noise(rng, 8)
    assert effective_bits([_as_read(eight, 8)], 8) == 8
    # 8-bit audio padded into a 16-bit container.
    assert effective_bits([_as_read(eight << 8, 16)], 16) == 8


def test_genuine_16_bit_reports_16():
    rng = np.random.default_rng(6)
    assert effective_bits([_as_read(_noise(rng, 16), 16)], 16) == 16


def test_silence_and_constant_dc_give_none():
    zeros = np.zeros((FRAMES, 2), dtype=np.int32)
    assert effective_bits([zeros, zeros], 24) is None
    dc = np.full((FRAMES, 2), 1234 << 8, dtype=np.int32)
    assert effective_bits([dc], 24) is None
    assert effective_bits([], 16) is None
    assert effective_bits([np.zeros((0, 2), dtype=np.int32)], 16) is None


def test_padding_with_a_constant_offset_reports_16():
    # 16-bit audio padded to 24 bits with the low byte fixed at 0x80 (half a 16-bit step
    # of DC offset): the low 8 bits never change, so they carry nothing.
    rng = np.random.default_rng(7)
    offset = (_noise(rng, 16) << 8) + 0x80
    read = _as_read(offset, 24)
    assert (read.view(np.uint32) & 0xFF00).any()  # the low byte of the 24 bits is not zero
    assert effective_bits([read], 24) == 16


def test_negative_values_and_sign_do_not_matter():
    values = np.array([[-1], [1], [-32768], [32767]], dtype=np.int64) << 8
    assert effective_bits([_as_read(values, 24)], 24) == 16
    assert effective_bits([_as_read(-values, 24)], 24) == 16


def test_windows_are_pooled():
    # One window that uses every bit is enough to prove the bits are used.
    rng = np.random.default_rng(8)
    padded = _as_read(_noise(rng, 16) << 8, 24)
    genuine = _as_read(_noise(rng, 24), 24)
    assert effective_bits([padded, padded], 24) == 16
    assert effective_bits([padded, genuine], 24) == 24
    # Low bits constant inside each window but different between windows are used.
    a = _as_read((_noise(rng, 16) << 8) + 0x11, 24)
    b = _as_read((_noise(rng, 16) << 8) + 0x22, 24)
    assert effective_bits([a], 24) == 16
    assert effective_bits([a, b], 24) > 16


def test_result_never_exceeds_stored_bits():
    rng = np.random.default_rng(9)
    genuine = _as_read(_noise(rng, 24), 24)
    assert effective_bits([genuine], 16) == 16


def test_bad_arguments():
    with pytest.raises(ValueError):
        effective_bits([np.zeros((4, 1), dtype=np.int32)], 0)
    with pytest.raises(ValueError):
        effective_bits([np.zeros((4, 1), dtype=np.int32)], 33)
    with pytest.raises(TypeError):
        effective_bits([np.zeros((4, 1), dtype=np.float32)], 16)
    with pytest.raises(TypeError):  # int16 samples are not left-justified in 32 bits
        effective_bits([np.ones((4, 1), dtype=np.int16)], 16)


def test_varying_bits_mask():
    data = np.array([[0x100], [0x300]], dtype=np.int32)
    assert varying_bits([data]) == 0x200


@pytest.mark.parametrize(
    ("subtype", "bits", "content_bits", "expected"),
    [
        ("PCM_16", 16, 16, 16),
        ("PCM_24", 24, 24, 24),
        ("PCM_24", 24, 16, 16),  # padded
        ("PCM_S8", 8, 8, 8),
    ],
)
def test_real_flac_files_read_left_justified(tmp_path, subtype, bits, content_bits, expected):
    rng = np.random.default_rng(10 + bits + content_bits)
    values = _noise(rng, content_bits) << (bits - content_bits)
    path = tmp_path / f"{subtype}_{content_bits}.flac"
    # soundfile writes int32 input by taking its top ``bits`` bits, so hand it the
    # left-justified form; reading back must give exactly the same words.
    sf.write(path, _as_read(values, bits), RATE, subtype=subtype, format="FLAC")
    assert sf.info(path).subtype == subtype
    read, rate = sf.read(path, dtype="int32")
    assert rate == RATE
    assert read.dtype == np.int32
    # The left-justification assumption: a b-bit value v arrives as v << (32 - b).
    np.testing.assert_array_equal(read.astype(np.int64) >> (32 - bits), values)
    assert not (read.view(np.uint32) & np.uint32((1 << (32 - bits)) - 1)).any()
    assert effective_bits([read[:10000], read[10000:]], bits) == expected


def test_int16_written_to_24_bit_flac_is_padded(tmp_path):
    # The way padding happens in practice: 16-bit samples handed to a 24-bit encoder.
    rng = np.random.default_rng(20)
    values = _noise(rng, 16).astype(np.int16)
    path = tmp_path / "padded.flac"
    sf.write(path, values, RATE, subtype="PCM_24", format="FLAC")
    read, _ = sf.read(path, dtype="int32")
    np.testing.assert_array_equal(read, values.astype(np.int32) << 16)
    assert effective_bits([read], 24) == 16
    genuine = tmp_path / "genuine.flac"
    sf.write(genuine, _as_read(_noise(rng, 24), 24), RATE, subtype="PCM_24", format="FLAC")
    assert effective_bits([sf.read(genuine, dtype="int32")[0]], 24) == 24

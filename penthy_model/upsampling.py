"""Fake hi-res: was this 88.2/96/176.4/192 kHz file resampled up from a lower rate?

A resampler that raises the rate of a 44.1 kHz master has to remove the images of the
spectrum above the old Nyquist frequency (22.05 kHz), so the result carries a *brick wall*:
the content (or the master's own dither floor) drops by 40-110 dB within one or two kHz at
or just below 22.05 kHz, and only the new container's noise floor lies above it. Real hi-res recordings fade
gently instead (microphones, instruments and air lose a few dB per octave), or run on
above the old Nyquist frequency.

How it decides, for each candidate original rate R (ascending) below the file's rate, with
F = R/2 the candidate's Nyquist frequency:

1. Average a Welch power spectrum (Blackman-Harris, ~23 Hz bins) over every window and
   channel, in dB, lightly smoothed.
2. Passband level P: median just below the wall (0.80F..0.88F). Floor level L: median just
   above it (1.06F..1.20F, and below 0.95 of the file's own Nyquist so the file's own
   anti-alias filter never counts). Depth D = P - L must be >= MIN_DEPTH_DB.
3. Find where the spectrum, going up from 0.88F, first falls below P - D/3 (f_a) and then
   below L + D/3 (f_b): the middle third of the drop. Its slope, in dB per percent of F,
   must be >= MIN_SLOPE_DB_PER_PERCENT (LOW_WALL_MIN_SLOPE_DB_PER_PERCENT for a wall
   centred well below F), and its centre (f_a+f_b)/2 must lie within WALL_RATIO times F
   ("at or just below the old Nyquist").
4. Nothing above the wall may climb back above the middle of the drop (content above).

The first candidate that passes is the answer; none passing gives None. Frequencies are
handled as fractions of F, so the same rule serves 44.1 kHz in a 96 kHz file and 96 kHz in
a 192 kHz file (resampler transition bands scale with the source rate).

Ordinary resamplers with a slower transition band (scipy's default ``resample_poly``, ffmpeg's
default swr) leave a 40-60 dB cliff a little above the old Nyquist frequency instead, which the
steep test above misses. When no candidate passes it, a second, *gentle* test is tried
(``gentle_wall_at``): between the same passband and a floor band at GENTLE_FLOOR_BAND (1.25-1.5 F)
the level must drop by at least GENTLE_MIN_DEPTH_DB, half-way down within GENTLE_CROSSING (0.95-1.2 F),
with nothing above coming back. No natural rolloff or analog filter loses 40 dB within a third of
an octave above 0.88 F.

44.1 and 48 kHz files are checked for one candidate only: 32 kHz, with the steep test and its
wall centred at most at 16 kHz (WALL_RATIO_32K): a lossy encoder's lowpass at 128 kbit/s and up
sits higher (16.6-20 kHz); lower-rate MP3s (112 kbit/s and below) can read as "from 32 kHz", and
their codec grid says what they are.

Undecidable, answered None: resamplers with poor image rejection (linear interpolation, whose
images fill the band above the old Nyquist); upsampled files re-dithered at 16 bits or drowned in
added noise, whose music has nothing left near the old Nyquist above that floor. Ambiguous: the rate is read
from where the wall sits, so a resampler whose transition band straddles the old Nyquist
and ends 1-2 kHz above it (ffmpeg's swr with a long filter) can make a 44.1 kHz source read
as 48 kHz, and a low-quality one that starts cutting early can make 48 kHz read as 44.1 kHz.
See docs/hires.md for the measured accuracy.

Only numpy: this runs at inference time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# --- which files and which candidates -------------------------------------------------
# Above 48 kHz: the hi-res candidates. At 44.1 and 48 kHz: 32 kHz only (see LOW_CANDIDATE).
MIN_SAMPLE_RATE = 48001
# Original rates we name, ascending: the first one whose Nyquist frequency carries a wall
# wins. 22.05 kHz is left out on purpose.
CANDIDATE_RATES = (44100, 48000, 88200, 96000)
# A 32 kHz source (broadcast, DAT long-play, old samplers) resampled to 44.1/48 kHz: a wall at
# 16 kHz, accepted only centred at or below it, under where lossy encoders at 128 kbit/s and
# up put their lowpass (MP3 128k: 16.6 kHz, AAC 128k: 17.3 kHz).
LOW_CANDIDATE = 32000
LOW_CANDIDATE_FILE_RATES = (44100, 48000)
WALL_RATIO_32K = (0.90, 1.00)

# --- the spectrum -----------------------------------------------------------------------
# Bin width to aim for: a wall of a good resampler is a few hundred hertz wide at 44.1 kHz,
# so bins must be well below that. nfft is the power of two giving at most this width
# (4096 at 88.2/96 kHz, 8192 at 176.4/192 kHz: 23.4 Hz or less, ~43 ms per segment).
TARGET_BIN_HZ = 25.0
# Segments do not overlap: a dozen 0.75 s windows already give 200-400 spectra per
# channel (level estimates good to ~0.3 dB), and overlap would double the cost for nothing.
SEGMENT_HOP_FRACTION = 1.0
# Smoothing of the dB spectrum across frequency (boxcar on power), in bins: evens out the
# ripple of a music spectrum without blurring a wall by more than ~60 Hz either side.
SMOOTH_BINS = 5
# Power floor added before taking dB, so digital silence gives a finite, very low level.
POWER_EPS = 1e-30

# --- the wall test (all frequencies as fractions of the candidate's Nyquist F) ---------
# Passband level: just below where any resampler we know starts to cut (soxr passes up to
# 0.91F, libsamplerate up to ~0.96F; even soxr's low-quality mode is only a few dB down).
PASS_BAND = (0.80, 0.88)
# Floor level: above every resampler's stopband edge (<= 1.03F even for transition bands
# centred on F), below the images a sloppy resampler would leave.
FLOOR_BAND = (1.06, 1.20)
# The floor band must keep at least this much width below 0.95 of the file's Nyquist,
# else the candidate cannot be judged in this file (e.g. 88.2 kHz inside a 96 kHz file).
MIN_FLOOR_BAND = 0.05
# The file's own anti-alias filter lives near its own Nyquist: never look above this.
FILE_NYQUIST_USE = 0.95
# Depth of the wall: a natural rolloff of -24 dB/octave loses only ~10 dB between the two
# bands above; resampled files drop 40-100 dB (music or the source's dither floor down to
# the 24-bit floor).
MIN_DEPTH_DB = 20.0
# Steepness of the middle third of the drop, in dB per 1% of F. Natural rolloffs lose
# 0.1-0.35 dB per percent of frequency (6-24 dB/octave), an 8th-order analog lowpass 0.7;
# resamplers 5-40 (soxr/libsamplerate low quality ~5-9, best ~15-40). 5 keeps a factor
# of 7 from the steepest analog filter, and rejects the lazy low-quality transitions seen
# through a 16-bit dither floor, whose centre could belong to either 44.1 or 48 kHz.
MIN_SLOPE_DB_PER_PERCENT = 5.0
# A gentler wall (low-quality resamplers seen through a raised floor: 3-5 dB per percent)
# is still accepted where it can only belong to this candidate: centred at or below this
# fraction of F, which no source of the next rate up puts its wall at.
LOW_WALL_MAX_RATIO = 0.95
LOW_WALL_MIN_SLOPE_DB_PER_PERCENT = 3.0
# Where the centre of the drop may sit. Resamplers put it between ~0.94F (soxr and
# libsamplerate stop at F, so the centre sits below it) and ~1.025F (a transition band
# centred on F); 0.90 also admits a 20 kHz encoder lowpass made before the resampler. 1.03
# stays below the wall of a 48 kHz source seen from the 44.1 kHz candidate (1.04-1.10 x
# 22.05 kHz for all but low-quality resamplers), so 48 kHz is not read as 44.1 kHz. The
# same ratios serve 88.2/96 kHz, which are the same pair an octave up.
WALL_RATIO = (0.90, 1.03)
# Above the wall nothing may come back up to the middle of the drop: that would be content
# (or images of a sloppy resampler) above the old Nyquist. Checked on a smoothed spectrum
# of this width (fraction of F) to ignore single-bin spikes.
ABOVE_SMOOTH = 0.02
# The gentle wall of ordinary resamplers (scipy's default resample_poly, ffmpeg's default swr;
# measured on synthetic music: half-way down at 0.97-1.15 F, 30-100 dB deep by 1.25-1.5 F).
GENTLE_FLOOR_BAND = (1.25, 1.50)
GENTLE_MIN_DEPTH_DB = 40.0
GENTLE_CROSSING = (0.95, 1.20)

# --- bandwidth helper -------------------------------------------------------------------
# Content bandwidth: the highest frequency whose level is within BANDWIDTH_BELOW_REF_DB of
# the median level of the reference band (the midrange, where every recording has
# content). 60 dB keeps the quiet top octave of real music (often 30-50 dB below the
# midrange) and drops the floor a resampler leaves above its wall (80-110 dB below).
BANDWIDTH_REF_HZ = (2000.0, 14000.0)
BANDWIDTH_BELOW_REF_DB = 60.0


@dataclass(frozen=True)
class Wall:
    """A brick wall found at a candidate's Nyquist frequency."""

    original_rate: int  # the candidate rate whose Nyquist frequency carries the wall
    wall_hz: float  # centre of the drop
    depth_db: float  # passband level minus floor level
    slope_db_per_percent: float  # steepness of the middle third of the drop


@dataclass(frozen=True)
class Spectrum:
    """Averaged power spectrum in dB (smoothed), with its bin frequencies."""

    freqs: np.ndarray
    db: np.ndarray
    sample_rate: int


def _nfft(sample_rate: int) -> int:
    return 1 << int(np.ceil(np.log2(sample_rate / TARGET_BIN_HZ)))


def _blackman_harris(n: int) -> np.ndarray:
    # 4-term Blackman-Harris: sidelobes below -92 dB, so loud content cannot leak over a
    # wall onto a floor 100+ dB lower more than a few bins away.
    k = 2.0 * np.pi * np.arange(n) / n
    return 0.35875 - 0.48829 * np.cos(k) + 0.14128 * np.cos(2 * k) - 0.01168 * np.cos(3 * k)


def power_spectrum(windows: Sequence[np.ndarray], sample_rate: int) -> Spectrum | None:
    """Welch power spectrum averaged over all windows, segments and channels (dB, smoothed).

    Windows are float arrays (frames, channels) or (frames,). Segments of nfft samples,
    SEGMENT_HOP_FRACTION * nfft apart; a window shorter than one segment is skipped. None
    when no segment fits.
    """
    nfft = _nfft(sample_rate)
    hop = max(1, int(nfft * SEGMENT_HOP_FRACTION))
    taper = _blackman_harris(nfft)
    total = np.zeros(nfft // 2 + 1)
    count = 0
    for window in windows:
        data = np.asarray(window, dtype=np.float64)
        if data.ndim == 1:
            data = data[:, None]
        if data.shape[0] < nfft:
            continue
        # (segments, channels, nfft) view, no copy until the taper multiplies it.
        segments = sliding_window_view(data, nfft, axis=0)[::hop]
        spectra = np.fft.rfft(segments * taper, axis=-1)
        total += np.sum(spectra.real**2 + spectra.imag**2, axis=(0, 1))
        count += segments.shape[0] * segments.shape[1]
    if count == 0:
        return None
    # Only level differences between bands matter, so a plain mean per bin will do.
    power = total / (count * np.sum(taper**2))
    kernel = np.ones(SMOOTH_BINS) / SMOOTH_BINS
    power = np.convolve(power, kernel, mode="same")
    freqs = np.fft.rfftfreq(nfft, 1.0 / sample_rate)
    return Spectrum(freqs=freqs, db=10.0 * np.log10(power + POWER_EPS), sample_rate=sample_rate)


def _band(spec: Spectrum, low_hz: float, high_hz: float) -> np.ndarray:
    return spec.db[(spec.freqs >= low_hz) & (spec.freqs <= high_hz)]


def wall_at(spec: Spectrum, original_rate: int, ratio: tuple[float, float] = WALL_RATIO) -> Wall | None:
    """The wall at ``original_rate``'s Nyquist frequency, if the spectrum shows one (its
    centre within ``ratio`` times that frequency)."""
    nyq = original_rate / 2.0
    usable_top = FILE_NYQUIST_USE * spec.sample_rate / 2.0
    floor_top = min(FLOOR_BAND[1] * nyq, usable_top)
    if floor_top - FLOOR_BAND[0] * nyq < MIN_FLOOR_BAND * nyq:
        return None
    passband = _band(spec, PASS_BAND[0] * nyq, PASS_BAND[1] * nyq)
    floorband = _band(spec, FLOOR_BAND[0] * nyq, floor_top)
    if passband.size == 0 or floorband.size == 0:
        return None
    pass_db = float(np.median(passband))
    floor_db = float(np.median(floorband))
    depth = pass_db - floor_db
    if depth < MIN_DEPTH_DB:
        return None

    # The middle third of the drop, scanning up from the end of the passband band.
    start = int(np.searchsorted(spec.freqs, PASS_BAND[1] * nyq))
    stop = int(np.searchsorted(spec.freqs, floor_top, side="right"))
    region = spec.db[start:stop]
    below_top = np.flatnonzero(region < pass_db - depth / 3.0)
    if below_top.size == 0:
        return None
    ia = below_top[0]
    below_bottom = np.flatnonzero(region[ia:] <= floor_db + depth / 3.0)
    if below_bottom.size == 0:
        return None
    ib = ia + below_bottom[0]
    f_a = spec.freqs[start + ia]
    f_b = spec.freqs[start + ib]
    bin_hz = spec.freqs[1]
    width_percent = 100.0 * max(f_b - f_a, bin_hz) / nyq
    slope = (depth / 3.0) / width_percent
    centre = 0.5 * (f_a + f_b)
    if not ratio[0] * nyq <= centre <= ratio[1] * nyq:
        return None
    low_wall = centre <= LOW_WALL_MAX_RATIO * nyq
    if slope < (LOW_WALL_MIN_SLOPE_DB_PER_PERCENT if low_wall else MIN_SLOPE_DB_PER_PERCENT):
        return None

    # Nothing above the wall may climb back to the middle of the drop.
    above = spec.db[(spec.freqs >= FLOOR_BAND[0] * nyq) & (spec.freqs <= usable_top)]
    width = max(1, int(round(ABOVE_SMOOTH * nyq / bin_hz)))
    if above.size >= width:
        smoothed = np.convolve(above, np.ones(width) / width, mode="valid")
        if float(np.max(smoothed)) > pass_db - depth / 2.0:
            return None
    return Wall(
        original_rate=original_rate,
        wall_hz=float(centre),
        depth_db=float(depth),
        slope_db_per_percent=float(slope),
    )


def gentle_wall_at(spec: Spectrum, original_rate: int) -> Wall | None:
    """The slower cliff of an ordinary resampler at ``original_rate``'s Nyquist frequency F:
    at least GENTLE_MIN_DEPTH_DB from the passband (0.80-0.88 F) to GENTLE_FLOOR_BAND, half-way
    down within GENTLE_CROSSING, and nothing above the floor band's start coming back up to
    half-way (a sloppy filter's images stay far under that; linear interpolation's do not)."""
    nyq = original_rate / 2.0
    usable_top = FILE_NYQUIST_USE * spec.sample_rate / 2.0
    floor_lo, floor_hi = GENTLE_FLOOR_BAND[0] * nyq, min(GENTLE_FLOOR_BAND[1] * nyq, usable_top)
    if floor_hi - floor_lo < MIN_FLOOR_BAND * nyq:
        return None
    passband = _band(spec, PASS_BAND[0] * nyq, PASS_BAND[1] * nyq)
    floorband = _band(spec, floor_lo, floor_hi)
    if passband.size == 0 or floorband.size == 0:
        return None
    pass_db, floor_db = float(np.median(passband)), float(np.median(floorband))
    depth = pass_db - floor_db
    if depth < GENTLE_MIN_DEPTH_DB:
        return None
    region = (spec.freqs > PASS_BAND[1] * nyq) & (spec.freqs <= floor_lo)
    below = np.flatnonzero(region & (spec.db < pass_db - depth / 2.0))
    if below.size == 0:
        return None
    crossing = float(spec.freqs[below[0]])
    if not GENTLE_CROSSING[0] * nyq <= crossing <= GENTLE_CROSSING[1] * nyq:
        return None
    above = spec.db[(spec.freqs >= floor_lo) & (spec.freqs <= usable_top)]
    width = max(1, int(round(ABOVE_SMOOTH * nyq / spec.freqs[1])))
    if above.size >= width:
        smoothed = np.convolve(above, np.ones(width) / width, mode="valid")
        if float(np.max(smoothed)) > pass_db - depth / 2.0:  # images or content above: no cliff
            return None
    slope = (depth / 2.0) / max(100.0 * (crossing - PASS_BAND[1] * nyq) / nyq, 1e-3)
    return Wall(original_rate=original_rate, wall_hz=crossing, depth_db=depth, slope_db_per_percent=slope)


def find_wall(spec: Spectrum) -> Wall | None:
    """The first candidate rate (ascending) whose Nyquist frequency carries a wall: a steep
    one first, for every candidate, then a gentle one. 44.1/48 kHz files: 32 kHz only, steep."""
    if spec.sample_rate in LOW_CANDIDATE_FILE_RATES:
        return wall_at(spec, LOW_CANDIDATE, WALL_RATIO_32K)
    if spec.sample_rate < MIN_SAMPLE_RATE:
        return None
    candidates = [rate for rate in CANDIDATE_RATES if rate < spec.sample_rate]
    for test in (wall_at, gentle_wall_at):
        for rate in candidates:
            wall = test(spec, rate)
            if wall is not None:
                return wall
    return None


def bandwidth_hz(spec: Spectrum) -> float | None:
    """Highest frequency within BANDWIDTH_BELOW_REF_DB of the midrange level, in Hz.

    Capped at 0.95 of the file's Nyquist frequency (content reaching that high reads as
    that value). A measure of level, not of origin: a noise floor within 60 dB of the
    midrange (a very quiet or noisy recording) counts as content. None for silence.
    """
    reference = _band(spec, *BANDWIDTH_REF_HZ)
    if reference.size == 0:
        return None
    ref_db = float(np.median(reference))
    if ref_db <= 10.0 * np.log10(POWER_EPS) + BANDWIDTH_BELOW_REF_DB:
        return None  # digital silence: nothing to measure against
    top = FILE_NYQUIST_USE * spec.sample_rate / 2.0
    usable = spec.freqs <= top
    loud = np.flatnonzero(spec.db[usable] >= ref_db - BANDWIDTH_BELOW_REF_DB)
    if loud.size == 0:
        return None
    return float(spec.freqs[usable][loud[-1]])


def content_bandwidth(windows: Sequence[np.ndarray], sample_rate: int) -> float | None:
    """Estimated bandwidth of the content in Hz (see ``bandwidth_hz``); None for silence."""
    spec = power_spectrum(windows, sample_rate)
    return None if spec is None else bandwidth_hz(spec)


def upsampled_from(windows: Sequence[np.ndarray], sample_rate: int) -> int | None:
    """The rate a file was likely resampled up from, or None.

    ``windows`` are float arrays (frames, channels) or (frames,) in [-1, 1], each at least
    one analysis segment long (2048 frames at 44.1/48 kHz, 4096 at 88.2/96 kHz, 8192 at
    176.4/192 kHz; the engine's 0.75 s windows are plenty). Above 48 kHz returns one of
    CANDIDATE_RATES when the spectrum ends in a wall at or just above that rate's Nyquist
    frequency; a 44.1 or 48 kHz file returns LOW_CANDIDATE (32000) for a steep wall at 16 kHz;
    None when the content runs above, fades naturally, or the rate is another.
    """
    return rate_facts(windows, sample_rate)[0]


def rate_facts(windows: Sequence[np.ndarray], sample_rate: int) -> tuple[int | None, float | None]:
    """(``upsampled_from``, ``hires_content_hz``) of the windows, from one spectrum."""
    if sample_rate < MIN_SAMPLE_RATE and sample_rate not in LOW_CANDIDATE_FILE_RATES:
        return None, None
    spec = power_spectrum(windows, sample_rate)
    if spec is None:
        return None, None
    wall = find_wall(spec)
    if wall is not None:
        return wall.original_rate, None
    return None, (_hires_content(spec) if sample_rate >= MIN_SAMPLE_RATE else None)


# --- hi-res content -------------------------------------------------------------------------
# Content "well above 24 kHz": no MP3, Opus or 44.1/48 kHz AAC/Vorbis stream carries any. The
# bands 20.5-23.5 kHz, 24.5-27 kHz and 26-40 kHz (capped at 0.9 of Nyquist) must all lie within
# HIRES_BELOW_REF_DB of the midrange (as ``bandwidth_hz`` counts content), with no resampler's
# wall found: content that runs on, unbroken, across the old rates' Nyquist frequencies.
HIRES_BANDS_HZ = ((20500.0, 23500.0), (24500.0, 27000.0), (26000.0, 40000.0))
HIRES_BELOW_REF_DB = BANDWIDTH_BELOW_REF_DB
HIRES_TOP_USE = 0.90


def hires_content_hz(windows: Sequence[np.ndarray], sample_rate: int) -> float | None:
    """For a file above 48 kHz whose content runs unbroken well above 24 kHz: how high (Hz,
    ``bandwidth_hz``); else None."""
    return rate_facts(windows, sample_rate)[1]


def _hires_content(spec: Spectrum) -> float | None:
    """``hires_content_hz`` of a spectrum in which no wall was found."""
    sample_rate = spec.sample_rate
    reference = _band(spec, *BANDWIDTH_REF_HZ)
    if reference.size == 0:
        return None
    ref_db = float(np.median(reference))
    for lo, hi in HIRES_BANDS_HZ:
        band = _band(spec, lo, min(hi, HIRES_TOP_USE * sample_rate / 2.0))
        if band.size == 0 or float(np.median(band)) < ref_db - HIRES_BELOW_REF_DB:
            return None
    return bandwidth_hz(spec)

"""Every number the features and the window choice depend on, in one place.

Training and inference both read these. A shipped model stores the values it was
trained with in its JSON sidecar (see ``FeatureParams``), and inference refuses a model
whose parameters differ from the code's, so a model and its features cannot drift apart.

All lengths are in seconds and all frequencies in Hz, so 44.1, 48, 88.2, 96 and 192 kHz
files land the same band on the same rows of the model input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

# --- the short-time spectrum -------------------------------------------------------
# 256 samples at 44.1 kHz (5.8 ms) with a hop of half that (2.9 ms): MP3 granules are
# 576 samples (13 ms), so each granule spans about four frames and the holes that open
# and close from one granule to the next stay visible.
FRAME_SECONDS = 256 / 44100
HOP_SECONDS = 128 / 44100
N_FRAMES = 256  # frames per window: 0.75 s of audio

# --- the band the model looks at ---------------------------------------------------
# 9 kHz to 24 kHz in 96 rows of 156 Hz (FFT bins are 172 Hz wide at any rate, since the
# frame length is fixed in seconds). The lossy cutoffs of interest (MP3 at 96-320 kbit/s,
# AAC 128k, Vorbis q2-q5) sit at 15-20 kHz. The rows below them show the model what the
# music does under a cutoff, and, for sparse music with nothing above 16 kHz, the top of
# its own spectrum, where an encoder short of bits leaves holes that open and close from
# one frame to the next. Rows above a file's Nyquist frequency are filled with the floor
# value (44.1 kHz files stop at 22.05 kHz).
BAND_LOW_HZ = 9000.0
BAND_HIGH_HZ = 24000.0
N_BANDS = 96

# --- normalisation -----------------------------------------------------------------
# Power in dB relative to the window's mean power per bin between 150 Hz and 14 kHz (the
# "reference band"), which makes the input independent of gain. A broad reference keeps
# sparse music (a lone bass line, a sine) from blowing the high band up. Values are
# clipped to [DB_FLOOR, DB_CEIL] and mapped linearly to [0, 1]: 0 is "nothing there".
REF_LOW_HZ = 150.0
REF_HIGH_HZ = 14000.0
DB_FLOOR = -110.0
DB_CEIL = 10.0

# --- choosing windows --------------------------------------------------------------
MAX_WINDOWS = 12  # windows read per file, spread over the whole track
WIDE_WINDOWS = 24  # read for the Opus frame edges of a file left undecided, where the track holds
# at least twice MAX_WINDOWS (see evidence.WIDE)
MIN_WINDOWS = 1  # fewer usable windows than this: "cannot tell"
SILENCE_DBFS = -60.0  # windows whose RMS is below this are skipped
MIN_SAMPLE_RATE = 44100  # below this the band above 16 kHz does not exist

# --- reading the evidence ----------------------------------------------------------
# The levels and z's below are the defaults of ``verdict.Policy``, which holds every decision
# threshold; the engine reads them only through a Policy.
# A window has "high-band content" when its level between 16 kHz and its Nyquist
# frequency (or 24 kHz) is above this, in dBFS of white noise with the same power per
# bin. 16-bit TPDF dither sits at -98 dBFS and plain 16-bit rounding at -101 dBFS, and a
# lossy decode leaves exactly that floor where the encoder cut: 13 dB above it is the
# least that is evidence of anything. When too few windows have content and the model
# does not see a transcode, the verdict is "inconclusive" rather than "lossless".
CONTENT_DBFS = -85.0
# ...unless all it is there is a steady noise floor that rises towards Nyquist: the mark of
# noise-shaped dither (TiMidity++ adds it by default; many CD masters carry it). Such a
# floor is added after any lossy step, so it vouches for nothing either way. A window's
# high band is taken for such a floor when it is as steady as noise (over its frames, a
# row's mean dB sits 1.5-2.5 dB under the dB of its mean power for noise, 4-20 dB for
# music with its attacks and decays: the median over the rows must be under
# FLOOR_SPREAD_DB) and when its top 3 kHz below Nyquist are more than FLOOR_RISE_DB louder
# than 16-17.5 kHz (music above 16 kHz falls with frequency; shaped dither climbs).
FLOOR_SPREAD_DB = 3.0
FLOOR_RISE_DB = 6.0
# --- codec evidence (``evidence``; measured on every file) ------------------------------
# The defaults of ``verdict.Policy``, which holds every decision threshold. A file is called
# transcoded, whatever the model says, when its windows show a codec's frame grid this many
# standard deviations clear of chance. Each was set by a rule written before its figures, on
# selection sets of genuine kinds (plain, steep low-passes, 32 kHz-sourced, sparse, hi-res)
# and decodes of the other codecs: see MODEL_CARD.md.
GRID_MIN_Z = 9.5  # AAC, Vorbis: max(5.0, 2 x the highest genuine z, 4.52), rounded up to 0.5
MP3_GRID_MIN_Z = 10.0  # MP3 (near-zero lines or equal pairs): max(10, 2 x 4.19)
# AC3, WMA, Opus and the MP2/Musepack subband grid: max(6, 2 x G), rounded up to 0.5, where G
# is the highest z over the genuine selection files of issues 24-26 and the other codecs'
# decodes (G: AC3 4.18, WMA 5.75, subband 4.84, Opus under 0). A 1.5 margin was tried first and
# proved too thin: genuine clips of other synthesis reached 7.9 (AC3) and 9.0 (WMA).
# AC3 with its mantissa lattice, a six-window scan on undecided files, and every alignment
# held above its quarter-hop shifts: max(8.5, 2 x 3.43), 3.43 being a genuine issue-25
# selection clip (noise bursts); before the shift check G was 5.02 and the level 10.5. Since 0.2.18
# undecided files at 44.1 and 48 kHz confirm 40 blocks of each alignment a window, not 6 (G over the
# selection's engine evidence then 1.23: levels unchanged; /work/data/c43, rules 16 and 16b).
# WMA with its frame length by rate (512 at <= 16 kHz, 1024 up to 22.05 kHz) and the quarter-hop shift
# check, 4 blocks when thorough (0.2.18): G 3.62 over the selection and the low-rate plan's genuine files
# (a wave at 11.025 kHz; rule 17): levels unchanged.
# Opus with its frame edges read in WIDE_WINDOWS windows of long undecided files: 2 x 3.25 (a WMA
# decode of issue 26's selection; 2.84 with 12 windows, when the level was 6.0).
# Opus's frame edges just above the source's own low-pass (grid "opus_lowpass"): max(6, 2 x 3.06),
# 3.06 a genuine minimum-phase low-pass of issue 25's 60 s selection (other codecs' decodes: 2.79).
# The same above a low-pass under 12 kHz ("opus_lowpass_low"): 2 x 3.49, an E-AC3 decode of issue
# 26's selection (genuine files: 3.22; /work/data/c38).
# Either of those where the noise floor also has CELT's band end at 20 kHz ("opus_bandend", 48 kHz
# only): their backing level below. No genuine file or other codec's decode of issues 25 and 26's
# selection has that floor (/work/data/c39), so the level that already decides "transcoded" names
# the codec the band end tells.
# Opus's small coefficients at CELT's grid under 20 kHz (grid "opus_zeros", 48 kHz only): max(6, 2 x 4.16),
# 4.16 a genuine minimum-phase low-pass of issue 25's selection, the highest of the engine's own evidence over
# issues 25 and 26's selection (genuine files, other codecs' decodes; /work/data/c42, rule 15b); its backing
# level below, max(4, 1.5 x 4.16). A first version's per-block t read steady tones as a grid (rule 15).
CODEC_MIN_Z = {"aac": GRID_MIN_Z, "vorbis": GRID_MIN_Z, "mp3": MP3_GRID_MIN_Z, "ac3": 8.5, "wma": 11.5,
               "opus": 6.5, "opus_lowpass": 6.5, "opus_lowpass_low": 7.0, "opus_bandend": 5.0, "mp2": 10.0,
               "musepack": 10.0, "subband": 10.0, "opus_zeros": 8.5}
# A grid too weak to name its codec still backs the network's "transcoded" (no steady filter
# leaves one), and decides a file the network leaves undecided, from these z's:
# max(REVIEW_Z, 1.5 x G), rounded up to 0.5, where G is the highest z of the engine's own
# evidence over the 228 genuine selection files of issues 25 and 26, whatever the network said
# (AAC 3.67, AC3 2.11, MP3 6.00, Opus 2.05, subband 4.84, Vorbis 4.00, WMA 4.29; /work/data/s28;
# Opus read wide on long files: 2.44 over those files rebuilt at 60 s, /work/data/c35;
# opus_lowpass 3.06, /work/data/c37; opus_lowpass_low 3.22, /work/data/c38).
CODEC_SUPPORT_Z = {"aac": 6.0, "vorbis": 6.0, "mp3": 9.0, "ac3": 4.0, "wma": 6.5, "opus": 4.0,
                   "opus_lowpass": 5.0, "opus_lowpass_low": 5.0, "opus_bandend": 5.0, "mp2": 7.5, "musepack": 7.5,
                   "subband": 7.5, "opus_zeros": 6.5}
# Which of AAC and Vorbis made a grid their detector found at one of their alignments: the other
# is named where its quantiser's lattice at the grid (``evidence.quantiser``) reaches this z and
# stands above the own's. max(20, 2 x the highest of that lattice over the selection's decodes named
# the other), rounded up to 10: Vorbis's lattice of AAC decodes at most 6.31, AAC's of Vorbis decodes
# 23.94 (issues 25 and 26's selection, /work/data/c41). Names only: AAC and Vorbis share their levels.
# WMA, whose frame is theirs at 22.05 kHz, by a ratio mark (``quantiser.ratio_z``: nearby sizes at its
# linear quantiser's ratios 2, 3, 3/2), compared with AAC's mark of that kind: max(100, 2 x 6.3), rounded
# up to 10, 6.3 the highest over the AAC and Vorbis grids of the selection and of low-rate decodes not WMA
# (read at any rate for the level; /work/data/c43, rules 18 and 18b).
QUANTISER_LEVELS = {"aac": 50.0, "vorbis": 20.0, "wma": 100.0}
# The least step (dB) at 20 kHz of a 48 kHz file's noise floor, in the shape of CELT's band end, for the
# Opus detector to report its low-pass frame edges as grid "opus_bandend": max(1.5, 1.5 x 1.37), rounded up
# to 0.5; 1.37 dB is the largest step of that shape over the genuine files and other codecs' decodes at 48 kHz
# of issues 25 and 26's selection (an AAC 320 decode; /work/data/c39).
OPUS_BAND_END_DB = 2.5
# What a detector's measure must reach for the detector to report it (``evidence.find_codec``'s
# ``requires``), by the grid it would report.
DETECTOR_REQUIRES = {"opus_bandend": OPUS_BAND_END_DB}
# A detector stops reading once a codec stands this far above chance (the answer is clear),
# or, after its screen, when every codec it measures is under this share of its threshold.
GRID_CLEAR_Z = 2 * MP3_GRID_MIN_Z
GRID_ABSENT_SHARE = 0.5


@dataclass(frozen=True)
class FeatureParams:
    """The feature parameters a model was trained with (stored beside the ONNX file)."""

    frame_seconds: float = FRAME_SECONDS
    hop_seconds: float = HOP_SECONDS
    n_frames: int = N_FRAMES
    band_low_hz: float = BAND_LOW_HZ
    band_high_hz: float = BAND_HIGH_HZ
    n_bands: int = N_BANDS
    ref_low_hz: float = REF_LOW_HZ
    ref_high_hz: float = REF_HIGH_HZ
    db_floor: float = DB_FLOOR
    db_ceil: float = DB_CEIL

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "FeatureParams":
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown feature parameters: {sorted(unknown)}")
        return cls(**data)


FEATURES = FeatureParams()

"""The answer for one file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

LOSSLESS, TRANSCODED, INCONCLUSIVE, ERROR = "lossless", "transcoded", "inconclusive", "error"


@dataclass
class Result:
    """What penthy found in one file.

    ``model_score`` is the CNN's own pooled belief that the file is genuine lossless (1)
    rather than a lossy transcode (0), never changed by later stages; ``score`` is the final
    one, after the codec evidence (0 when a codec's frame grid was found). ``verdict`` is what
    the policy makes of them, and ``reason`` says why. ``engine`` is the detector's code
    version and ``model`` the network's: a stored verdict is stale when either changed.
    """

    path: str
    verdict: str
    score: float | None = None
    reason: str | None = None
    cutoff_hz: int | None = None
    window_scores: list[float] = field(default_factory=list)
    window_starts: list[float] = field(default_factory=list)  # seconds
    content_share: float | None = None  # share of windows with sound above 16 kHz (the evidence)
    sample_rate: int | None = None
    channels: int | None = None
    duration: float | None = None
    bits: int | None = None  # as stored in the container
    bits_effective: int | None = None
    upsampled_from: int | None = None
    model: str | None = None  # the network's version (from its sidecar)
    engine: str | None = None  # the detector's code version (the package version)
    model_score: float | None = None  # the CNN's pooled score, before any codec evidence
    codec: str | None = None  # "mp3", "aac", "vorbis", ... when the samples show that codec's frame grid
    grid_z: float | None = None  # the z of the codec grid that proves or backs the verdict, else the strongest found
    grid_alignment: int | None = None  # the sample offset of that grid
    backed_by: str | None = None  # the codec whose grid, too weak to name it, backs a transcoded verdict
    grid: str | None = None  # which of its codec's measures that grid is, where it has more than one
    # ("opus_lowpass", "opus_lowpass_low": Opus's frame edges above a low-pass, "opus_bandend": the same
    # where the noise floor ends at CELT's last band, "opus_zeros": small coefficients at CELT's grid under
    # 20 kHz; "subband": MP2/Musepack)

    @property
    def ok(self) -> bool:
        return self.verdict != ERROR

    def to_dict(self) -> dict:
        return asdict(self)

    def facts(self) -> list[str]:
        """The facts worth showing beside the verdict, in words."""
        facts = []
        if self.cutoff_hz:
            facts.append(f"cutoff {self.cutoff_hz / 1000:.1f} kHz")
        if self.bits and self.bits_effective and self.bits_effective < self.bits:
            facts.append(f"{self.bits_effective} of {self.bits} bits used")
        if self.upsampled_from:
            facts.append(f"upsampled from {self.upsampled_from / 1000:g} kHz")
        if self.reason:
            facts.append(self.reason)
        return facts


# How each codec a detector names (``Result.codec``) is spelled for people.
CODEC_NAMES = {"mp3": "MP3", "aac": "AAC", "vorbis": "Vorbis", "ac3": "AC3", "eac3": "E-AC3", "mp2": "MP2",
               "musepack": "Musepack", "wma": "WMA", "opus": "Opus",
               "subband": "a polyphase subband coder (MP2 or Musepack; the scalefactors do not tell which)"}


def explain(r: Result) -> str | None:
    """Why a result is what it is, in words: the engine's reason when it gives one, else,
    for a transcoded file, its evidence (codec, model score, cutoff)."""
    if r.reason:
        return r.reason
    if r.verdict != TRANSCODED:
        return None
    parts = []
    if r.codec:
        grid = f" (frame grid z {r.grid_z:g})" if r.grid_z is not None else ""
        parts.append(f"decoded from {CODEC_NAMES.get(r.codec, r.codec)}{grid}")
    score = r.model_score if r.model_score is not None else r.score
    if score is not None:
        parts.append(f"the spectrogram model scored {score:.3f}, below its threshold")
    if r.cutoff_hz:
        parts.append(f"content stops at {r.cutoff_hz / 1000:.1f} kHz")
    return "; ".join(parts) or None

"""The answer for one file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

LOSSLESS, TRANSCODED, INCONCLUSIVE, ERROR = "lossless", "transcoded", "inconclusive", "error"


@dataclass
class Result:
    """What penthy found in one file.

    ``score`` is the model's belief that the file is genuine lossless (1) rather than a
    lossy transcode (0); ``verdict`` is what the thresholds make of it, and ``reason``
    says why when the verdict is ``inconclusive`` or ``error``, or when a codec's frame
    grid, not the score, made it ``transcoded`` (``codec_grid``; the score is then 0).
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
    model: str | None = None
    codec_grid: str | None = None  # "AAC", "Vorbis" or "MP3" when the samples show that codec's frame grid
    grid_z: float | None = None  # how clearly (see ``grid`` and ``mp3grid``)

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

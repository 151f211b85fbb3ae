"""Lossy transcodes ("fakes") of genuine clips, made the way people make them.

A fake is a genuine FLAC encoded to a lossy format and decoded back to a 16-bit FLAC at
the source's sample rate and channel count: that is exactly what a transcoded "lossless"
file is. Several encoder implementations are used for the same setting (the LAME CLI,
ffmpeg's libmp3lame, libsndfile inside soundfile) so a model learns what lossy coding
does to the 14-24 kHz band rather than the fingerprint of one encoder build.

Every condition is a row in ``CONDITIONS``: name -> (family, report group, how to encode).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

# --- settings ------------------------------------------------------------------------
MP3_CBR_KBPS = (96, 128, 160, 192, 224, 256, 320)
MP3_VBR_LEVELS = tuple(range(7))  # LAME -V 0 .. -V 6
MP3_ABR_KBPS = (128, 192, 256)
AAC_KBPS = (128, 160, 192, 256, 320)
# Other AAC encoders (Apple, FDK) use neither intensity stereo nor noise substitution at
# high rates; ffmpeg's own does. These switch the tricks off, or use its other quantiser
# search, so the model does not learn one encoder's tools as "AAC".
AAC_HIGH_VARIANTS = {
    "plain": ("-aac_is", "0", "-aac_pns", "0"),
    "fast": ("-aac_coder", "fast"),
}
VORBIS_QUALITIES = tuple(range(2, 9))  # q2 .. q8
OPUS_KBPS = (64, 96, 128, 160, 192)
SF_BLOCK_FRAMES = 16384  # libsndfile's Vorbis encoder segfaults on one huge write
SUBPROCESS_TIMEOUT_S = 120

FAMILIES = ("mp3", "aac", "vorbis", "opus")
REPORT_GROUPS = (
    "mp3_cbr_le256", "mp3_hard", "mp3_other", "vorbis", "aac_ge256", "aac_lt256", "opus",
)
# The settings a cutoff detector cannot see: content goes (almost) to Nyquist.
HARD_CONDITIONS_WEIGHT = 3.0


class EncodeError(RuntimeError):
    """An encoder or decoder subprocess failed; the message carries its stderr."""


@dataclass(frozen=True)
class Condition:
    """One lossy setting: which family, which report group, which tool and its arguments."""

    name: str
    family: str
    group: str
    tool: str  # "lame", "ffmpeg" or "sf"
    args: tuple  # tool arguments (CLI flags) or soundfile keyword pairs
    ext: str  # container of the lossy file
    weight: float = 1.0  # relative sampling weight when choosing fakes for a clip
    keep_rate: bool = False  # keep Opus's own rate (48 kHz) in the decode, not the source's


def _mp3_group(setting: str) -> str:
    if setting in ("cbr320", "v0", "320_nolowpass", "v0_nolowpass"):
        return "mp3_hard"
    if setting.startswith("cbr"):
        return "mp3_cbr_le256"
    return "mp3_other"


def _mp3_conditions() -> list[Condition]:
    """MP3 through three implementations; no-lowpass variants only where a flag exists."""
    out = []
    settings = {f"cbr{k}": k for k in MP3_CBR_KBPS}
    settings.update({f"v{q}": q for q in MP3_VBR_LEVELS})
    settings.update({f"abr{k}": k for k in MP3_ABR_KBPS})
    for s, v in settings.items():
        if s.startswith("cbr"):
            lame = ("-b", str(v), "--cbr")
            ff = ("-c:a", "libmp3lame", "-b:a", f"{v}k")
            sfa = (("bitrate_mode", "CONSTANT"), ("compression_level", 1 - (v - 32) / 288))
        elif s.startswith("v"):
            lame = ("-V", str(v))
            ff = ("-c:a", "libmp3lame", "-q:a", str(v))
            # libsndfile maps compression_level * 10 to LAME's VBR quality (measured).
            sfa = (("bitrate_mode", "VARIABLE"), ("compression_level", v / 10))
        else:
            lame = ("--abr", str(v))
            ff = ("-c:a", "libmp3lame", "-abr", "1", "-b:a", f"{v}k")
            sfa = None
        out.append(Condition(f"mp3_{s}_lame", "mp3", _mp3_group(s), "lame", lame, "mp3"))
        out.append(Condition(f"mp3_{s}_ffmpeg", "mp3", _mp3_group(s), "ffmpeg", ff, "mp3"))
        if sfa is not None:
            out.append(Condition(f"mp3_{s}_sf", "mp3", _mp3_group(s), "sf", sfa + (("format", "MP3"),), "mp3"))
    # LAME's --lowpass -1 and ffmpeg's -cutoff -1 both switch the lowpass off (measured:
    # content stays to 22 kHz; ffmpeg's -cutoff 22050 or higher does NOT disable it).
    nolp = {
        "320_nolowpass": (("-b", "320", "--cbr"), ("-c:a", "libmp3lame", "-b:a", "320k")),
        "v0_nolowpass": (("-V", "0"), ("-c:a", "libmp3lame", "-q:a", "0")),
    }
    for s, (lame, ff) in nolp.items():
        out.append(Condition(f"mp3_{s}_lame", "mp3", "mp3_hard", "lame", lame + ("--lowpass", "-1"), "mp3"))
        out.append(Condition(f"mp3_{s}_ffmpeg", "mp3", "mp3_hard", "ffmpeg", ff + ("-cutoff", "-1"), "mp3"))
    return out


def _other_conditions() -> list[Condition]:
    out = []
    for k in AAC_KBPS:
        group = "aac_ge256" if k >= 256 else "aac_lt256"
        out.append(Condition(f"aac_{k}", "aac", group, "ffmpeg", ("-c:a", "aac", "-b:a", f"{k}k"), "m4a"))
    for q in VORBIS_QUALITIES:
        out.append(Condition(f"vorbis_q{q}", "vorbis", "vorbis", "ffmpeg", ("-c:a", "libvorbis", "-q:a", str(q)), "ogg"))
        # libsndfile: Vorbis quality = 1 - compression_level, on the 0..1 scale (q/10).
        out.append(Condition(f"vorbis_q{q}_sf", "vorbis", "vorbis", "sf",
                             (("format", "OGG"), ("subtype", "VORBIS"), ("compression_level", 1 - q / 10)), "ogg"))
    for k in OPUS_KBPS:
        out.append(Condition(f"opus_{k}", "opus", "opus", "ffmpeg", ("-c:a", "libopus", "-b:a", f"{k}k"), "opus"))
    return out


def _aac_variant_conditions() -> list[Condition]:
    """Added after the first corpus was built: clips get these through the hard extras."""
    return [Condition(f"aac_{k}_{v}", "aac", "aac_ge256", "ffmpeg", ("-c:a", "aac", "-b:a", f"{k}k") + flags, "m4a")
            for k in AAC_KBPS if k >= 256 for v, flags in AAC_HIGH_VARIANTS.items()]


def _is_hard(c: Condition) -> bool:
    """Settings with no cutoff to see: the model must learn texture for these."""
    if c.group in ("mp3_hard", "aac_ge256", "opus"):
        return True
    return c.family == "vorbis" and int(c.name.split("_q")[1].split("_")[0]) >= 6


def _build_table() -> dict[str, Condition]:
    table = {}
    for c in _mp3_conditions() + _other_conditions() + _aac_variant_conditions():
        w = HARD_CONDITIONS_WEIGHT if _is_hard(c) else 1.0
        table[c.name] = Condition(c.name, c.family, c.group, c.tool, c.args, c.ext, w)
    return table


CONDITIONS: dict[str, Condition] = _build_table()


def _more_conditions() -> dict[str, Condition]:
    """The codecs of DVD and broadcast sources, old rips and streams (issue 26), each family
    named as the grid detectors name it. Kept out of ``CONDITIONS`` (whose order and
    families the training corpus rests on) until a corpus is built with them."""
    out = []
    for k in (192, 256, 384, 448, 640):
        out.append(Condition(f"ac3_{k}", "ac3", "ac3", "ffmpeg", ("-c:a", "ac3", "-b:a", f"{k}k"), "ac3"))
    for k in (256, 384, 640):
        out.append(Condition(f"eac3_{k}", "ac3", "ac3", "ffmpeg", ("-c:a", "eac3", "-b:a", f"{k}k"), "eac3"))
    for k in (192, 256, 384):
        out.append(Condition(f"mp2_{k}", "mp2", "mp2", "ffmpeg", ("-c:a", "mp2", "-b:a", f"{k}k"), "mp2"))
        out.append(Condition(f"twolame_{k}", "mp2", "mp2", "twolame", ("-b", str(k)), "mp2"))
    for q in (4, 5, 6, 7):
        out.append(Condition(f"musepack_q{q}", "musepack", "musepack", "mpcenc", ("--quality", str(q)), "mpc"))
    for k in (128, 192, 256, 320):
        out.append(Condition(f"wma_{k}", "wma", "wma", "ffmpeg", ("-c:a", "wmav2", "-b:a", f"{k}k"), "wma"))
    for k in (96, 128, 192, 256):
        out.append(Condition(f"opus48_{k}", "opus", "opus", "ffmpeg", ("-c:a", "libopus", "-b:a", f"{k}k"), "opus",
                             keep_rate=True))
    return {c.name: c for c in out}


MORE_CONDITIONS: dict[str, Condition] = _more_conditions()
# A clip's first fakes are drawn from the table as it was when the corpus was first built,
# so that extending the table does not change the plans of clips already on disk.
FIRST_CONDITIONS = tuple(c.name for c in _mp3_conditions() + _other_conditions())
# The settings a clip gets extra fakes from: no cutoff to speak of, the bars hardest to meet.
HARD_EXTRA_GROUPS = ("aac_ge256", "mp3_hard")
# Conditions that need nothing but soundfile (for tests and CI machines without apt).
SF_ONLY_CONDITIONS = tuple(n for n, c in CONDITIONS.items() if c.tool == "sf")


def condition_family(name: str) -> str:
    """`mp3`, `aac`, `vorbis` or `opus` for a condition name."""
    return CONDITIONS[name].family


def condition_group(name: str) -> str:
    """The report group the evaluation bars use for a condition name."""
    return CONDITIONS[name].group


# --- running tools -----------------------------------------------------------------------
def _run(cmd: list[str], what: str) -> bytes:
    """Run a subprocess; raise EncodeError with its stderr tail if it fails."""
    exe = shutil.which(cmd[0])
    if exe is None:
        raise EncodeError(f"{what}: '{cmd[0]}' is not installed (try --install)")
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=SUBPROCESS_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        raise EncodeError(f"{what}: timed out after {SUBPROCESS_TIMEOUT_S}s: {' '.join(cmd)}") from e
    if r.returncode != 0:
        tail = r.stderr.decode(errors="replace")[-500:]
        raise EncodeError(f"{what} failed (rc {r.returncode}): {' '.join(cmd)}\n{tail}")
    return r.stdout


def _encode(src: Path, cond: Condition, tmp: Path, audio: np.ndarray, sr: int) -> Path:
    """Encode the source with the condition's tool; return the lossy file."""
    lossy = tmp / f"lossy.{cond.ext}"
    if cond.tool in ("lame", "twolame", "mpcenc"):
        wav = tmp / "in.wav"  # these read WAV, not FLAC
        sf.write(wav, audio, sr, subtype="PCM_16")
        quiet = {"lame": "--quiet", "twolame": "--quiet", "mpcenc": "--silent"}[cond.tool]
        _run([cond.tool, quiet, *cond.args, str(wav), str(lossy)], cond.name)
    elif cond.tool == "ffmpeg":
        _run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-threads", "1", "-i", str(src),
              *cond.args, str(lossy)], cond.name)
    else:
        kw = dict(cond.args)
        with sf.SoundFile(lossy, "w", sr, audio.shape[1], **kw) as f:
            for i in range(0, len(audio), SF_BLOCK_FRAMES):
                f.write(audio[i:i + SF_BLOCK_FRAMES])
    return lossy


def _decode(lossy: Path, cond: Condition, sr: int, channels: int) -> np.ndarray:
    """Decode to float32 at the source rate and channel count (Opus comes out at 48 kHz),
    or at the codec's own rate when the condition keeps it (``decoded_rate`` tells which)."""
    if cond.tool == "sf":
        y, ysr = sf.read(lossy, dtype="float32", always_2d=True)
        if ysr == sr and y.shape[1] == channels:
            return y
    rate = [] if cond.keep_rate else ["-ar", str(sr)]
    raw = _run(["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-i", str(lossy),
                *rate, "-ac", str(channels), "-f", "f32le", "-"], f"decode {cond.name}")
    return np.frombuffer(raw, np.float32).reshape(-1, channels)


def decoded_rate(cond: Condition, sr: int) -> int:
    """The sample rate a condition's fake of an ``sr`` source is written at (``keep_rate``
    is for Opus, which decodes at 48 kHz whatever went in)."""
    return 48000 if cond.keep_rate else sr


def round_to_int16(steps: np.ndarray) -> np.ndarray:
    """Samples counted in 16-bit steps, rounded and clipped to int16 (no dither: add it first)."""
    return np.clip(np.round(steps), -32768, 32767).astype(np.int16)


def to_pcm16(audio: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Clip to full scale and quantise to int16, with TPDF dither when an rng is given.

    Genuine 16-bit clips are dithered at random too, so a dither floor tells nothing.
    """
    x = np.asarray(audio, np.float64) * 32767.0
    if rng is not None:
        x = x + rng.random(x.shape) - rng.random(x.shape)
    return round_to_int16(x)


def make_fake(src_flac, dst_flac, condition: str | Condition, rng: np.random.Generator | None = None) -> None:
    """Encode ``src_flac`` with ``condition`` and decode it to a 16-bit FLAC ``dst_flac``.

    The output has the source's sample rate (or the codec's own, for a condition that keeps
    it), channel count and length (the encoder's padding is trimmed, short output padded with
    silence). ``rng`` turns on TPDF dither.
    ``condition`` is a name in ``CONDITIONS`` or a ``Condition`` of its own.
    """
    cond = condition if isinstance(condition, Condition) else {**CONDITIONS, **MORE_CONDITIONS}[condition]
    src, dst = Path(src_flac), Path(dst_flac)
    audio, sr = sf.read(src, dtype="float32", always_2d=True)
    ch = audio.shape[1]
    n = int(round(len(audio) * decoded_rate(cond, sr) / sr))
    with tempfile.TemporaryDirectory(prefix="penthy_fake_") as d:
        lossy = _encode(src, cond, Path(d), audio, sr)
        y = _decode(lossy, cond, sr, ch)
    y = y[:n] if len(y) >= n else np.concatenate([y, np.zeros((n - len(y), ch), np.float32)])
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.name + ".part")
    sf.write(part, to_pcm16(y, rng), decoded_rate(cond, sr), format="FLAC", subtype="PCM_16")
    part.replace(dst)  # atomic: a killed build never leaves a half-written fake

"""Which file formats penthy analyses, which it skips as lossy, and what reads each.

One table for every front end: the CLI's folder scan, its "not a lossless format" skip,
and the beets plugin's `formats` option all read it. Names are the ones beets gives
``item.format`` (mediafile's), upper-cased for comparison.

libsndfile (through soundfile, a runtime dependency) reads FLAC, WAV, AIFF and its
relatives. ALAC, WavPack and APE need a decoder made for the job: the optional extra
``formats`` (``pip install 'penthy[formats]'``), which installs PyAV (FFmpeg's decoders,
in its wheels); :mod:`penthy_model.decode_av` reads them.

For the front ends:

* :func:`format_of` names a file's format from its extension alone (cheap, for folder scans).
* :func:`needs_extra` says whether a file is read through the extra.
* :class:`Probe` is what a file really holds, as :func:`penthy_model.decode_av.probe` finds
  by opening it: a ``.m4a`` may carry ALAC (lossless) or AAC (lossy), and only opening it
  tells. ``probe(path).lossless`` is False for a lossy file, and ``probe(path).reason`` is
  then the line to show ("AAC is not a lossless format").
* :class:`NotLossless` is what the engine raises when asked to read a lossy stream hidden
  in a lossless container; :class:`ExtraMissing` when a file needs the extra and it is
  not installed (its message says how to get it). Both are ``ValueError``/``RuntimeError``
  subclasses, so ``Analyzer.analyze`` turns them into an error result with that message.
"""

from __future__ import annotations

import os
from typing import NamedTuple

FORMATS_EXTRA_HINT = "pip install 'penthy[formats]' (or, from a checkout, pip install -e '.[formats]')"

# format name -> file extensions (lower case, with the dot)
SNDFILE_FORMATS = {
    "FLAC": (".flac",),
    "WAVE": (".wav", ".wave", ".w64", ".rf64"),
    "AIFF": (".aif", ".aiff", ".aifc"),
    "CAF": (".caf",),
}
EXTRA_FORMATS = {  # lossless, read through the `formats` extra
    "ALAC": (".m4a",),
    "WAVPACK": (".wv",),
    "APE": (".ape",),
}
LOSSY_FORMATS = {
    "MP3": (".mp3",),
    "AAC": (".aac",),  # .m4a may hold AAC or ALAC: decided by its codec, not its name
    "OGG": (".ogg", ".oga"),
    "OPUS": (".opus",),
    "MUSEPACK": (".mpc",),
    "WINDOWS MEDIA": (".wma", ".asf"),
    "MP2": (".mp2",),
    "AC3": (".ac3",),
}
# What users may write in `formats`, mapped to the names above.
ALIASES = {"WAV": "WAVE", "AIF": "AIFF", "AIFC": "AIFF", "WV": "WAVPACK", "WMA": "WINDOWS MEDIA",
           "MPC": "MUSEPACK", "VORBIS": "OGG"}
LOSSLESS_FORMATS = {**SNDFILE_FORMATS, **EXTRA_FORMATS}


def normal_name(name: str) -> str:
    """A format name as written by a user or by beets, in the table's spelling."""
    name = str(name).strip().upper()
    return ALIASES.get(name, name)


def format_of(path) -> str | None:
    """The format a file's extension names (lossless or lossy), or None when unknown."""
    ext = os.path.splitext(os.fsdecode(path))[1].lower()
    for table in (LOSSLESS_FORMATS, LOSSY_FORMATS):
        for name, extensions in table.items():
            if ext in extensions:
                return name
    return None


def extra_available() -> bool:
    """Whether the decoder of the `formats` extra is installed."""
    from importlib.util import find_spec

    return find_spec("av") is not None


# FFmpeg codec names of lossless audio, mapped to the table's format names. What a
# container holds is decided by these, never by the file name.
LOSSLESS_CODECS = {
    "alac": "ALAC", "wavpack": "WAVPACK", "ape": "APE", "flac": "FLAC", "tta": "TTA",
    "mlp": "MLP", "truehd": "TRUEHD",
}
# FFmpeg decoder names of lossy codecs that differ from the table's spelling.
_LOSSY_CODEC_NAMES = {"aac_fixed": "AAC", "aac_latm": "AAC", "mp3float": "MP3", "mp3fixed": "MP3",
                      "mp2float": "MP2", "mp2fixed": "MP2", "vorbis": "OGG", "libvorbis": "OGG",
                      "libopus": "OPUS", "musepack7": "MUSEPACK", "musepack8": "MUSEPACK",
                      "wmav1": "WINDOWS MEDIA", "wmav2": "WINDOWS MEDIA", "wmapro": "WINDOWS MEDIA",
                      "eac3": "AC3", "ac3_fixed": "AC3"}


class NotLossless(ValueError):
    """The file holds a lossy stream (an AAC .m4a): there is nothing lossless to judge."""

    def __init__(self, format_name: str, path=None):
        self.format_name = format_name
        self.path = path
        super().__init__(not_lossless_reason(format_name))


class ExtraMissing(RuntimeError):
    """The file needs the `formats` extra (PyAV), which is not installed."""

    def __init__(self, format_name: str | None = None):
        self.format_name = format_name
        what = f"reading {format_name} files" if format_name else "reading this file"
        super().__init__(f"{what} needs the optional `formats` extra: {FORMATS_EXTRA_HINT}")


class Probe(NamedTuple):
    """What a file holds: its format name (the table's spelling, or None) and whether it is lossless."""

    format: str | None
    lossless: bool

    @property
    def reason(self) -> str | None:
        """The line a front end shows when it skips the file, or None when it is lossless."""
        if self.lossless:
            return None
        return not_lossless_reason(self.format) if self.format else "not an audio format penthy knows"


def not_lossless_reason(format_name: str) -> str:
    return f"{format_name} is not a lossless format"


def codec_format(codec: str) -> tuple[str, bool]:
    """(format name, lossless) for an FFmpeg codec or decoder name."""
    codec = str(codec).lower()
    if codec in LOSSLESS_CODECS:
        return LOSSLESS_CODECS[codec], True
    if codec.startswith("pcm_"):
        return "PCM", True
    return _LOSSY_CODEC_NAMES.get(codec, codec.upper()), False


def needs_extra(path) -> bool:
    """Whether ``path`` (by its extension) is read through the `formats` extra."""
    return format_of(path) in EXTRA_FORMATS

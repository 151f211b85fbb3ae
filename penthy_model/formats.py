"""Which file formats penthy analyses, which it skips as lossy, and what reads each.

One table for every front end: the CLI's folder scan, its "not a lossless format" skip,
and the beets plugin's `formats` option all read it. Names are the ones beets gives
``item.format`` (mediafile's), upper-cased for comparison.

libsndfile (through soundfile, a runtime dependency) reads FLAC, WAV, AIFF and its
relatives. ALAC, WavPack and APE need a decoder made for the job: the optional extra
``formats`` (``pip install 'penthy[formats]'``).
"""

from __future__ import annotations

import os

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

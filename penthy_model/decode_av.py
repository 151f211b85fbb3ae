"""Reading ALAC, WavPack and APE windows through PyAV (the optional `formats` extra).

:class:`AvReader` gives :func:`penthy_model.audio.read_windows` what soundfile gives it for
FLAC: the stream's rate, channels, length and stored depth, and ``read(start, length)``,
which returns exactly the samples ``start`` to ``start + length`` without decoding the rest
of the file. A seek lands on the packet that holds ``start`` (or one before it); the reader
decodes forward from there and cuts at the wanted sample, using the packets' timestamps, so
the windows are the same samples a FLAC of the same PCM gives.

Integer PCM comes back as int32 with the stored bits at the top of the word, as
``soundfile.read(..., dtype="int32")`` gives it (FFmpeg's ALAC, WavPack and APE decoders
already left-justify 24-bit samples in 32 bits; 16- and 8-bit ones are shifted here), which
the bit-depth check relies on. The stored depth is read from the codec's own header (the
ALAC cookie, the WavPack block header, the APE header), since FFmpeg's decoders do not pass
it through PyAV and their sample format only gives the width they decode to (24-bit audio
comes in 32 bits, 8-bit WavPack in 16).

Reading 12 windows of a 4-minute file decodes about 4% of it for ALAC, 5% for WavPack
and 9-17% for APE, whose frames are long (73728 samples and more).
"""

from __future__ import annotations

import os
import struct
from fractions import Fraction

import numpy as np

from .formats import (EXTRA_FORMATS, SNDFILE_FORMATS, ExtraMissing, NotLossless, Probe, codec_format,
                      format_of)

# After a seek that landed past the wanted sample (a demuxer may round up), seek again this
# many samples earlier, doubling, at most this many times.
_BACKOFF_SAMPLES = 1 << 16
_BACKOFF_TRIES = 6
_HEADER_BYTES = 1 << 16  # where a WavPack or APE header is looked for


def _import_av(format_name: str | None = None):
    try:
        import av
    except ImportError as exc:
        raise ExtraMissing(format_name) from exc
    return av


class _Opened:
    """``av.open`` for a str or bytes path, names that are not valid UTF-8 included.

    FFmpeg wants a UTF-8 name; a name with undecodable bytes is handed over as a file
    object instead, closed with the container.
    """

    def __init__(self, av, path):
        name, self.file = os.fsdecode(path), None
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            self.file = open(os.fsencode(path), "rb")
        try:
            self.container = av.open(self.file if self.file is not None else name, "r")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if getattr(self, "container", None) is not None:
            self.container.close()
        if self.file is not None:
            self.file.close()


def _audio_stream(container, path):
    if not container.streams.audio:
        raise ValueError(f"no audio stream in {os.fsdecode(path)}")
    return container.streams.audio[0]


def _reraise(exc: Exception, path):
    """An FFmpeg error as a builtin exception the engine catches, in words (no FFmpeg errno)."""
    if isinstance(exc, OSError) and not isinstance(exc, (ValueError, RuntimeError)):
        raise exc  # file not found, permission denied...: already says which file
    words = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    message = f"cannot decode {os.fsdecode(path)}: {words}"
    raise (ValueError if isinstance(exc, ValueError) else RuntimeError)(message) from exc


def probe_codec(path) -> str:
    """The FFmpeg codec name of the first audio stream of ``path`` (opens the header only)."""
    av = _import_av(format_of(path))
    try:
        opened = _Opened(av, path)
    except av.FFmpegError as exc:
        _reraise(exc, path)
    try:
        return _audio_stream(opened.container, path).codec_context.name
    finally:
        opened.close()


def probe(path) -> Probe:
    """What ``path`` holds, for deciding whether to analyse it.

    soundfile's formats and the lossy ones are named by their extension, without opening
    the file. A file of the `formats` extra is opened (its header only) to read the codec
    of its first audio stream, so an AAC ``.m4a`` gives ``Probe("AAC", False)`` and an ALAC
    one ``Probe("ALAC", True)``. Raises :class:`ExtraMissing` when such a file needs the
    extra and it is not installed, and ``OSError``/``ValueError``/``RuntimeError`` when the
    file cannot be opened.
    """
    name = format_of(path)
    if name in EXTRA_FORMATS:
        return Probe(*codec_format(probe_codec(path)))
    return Probe(name, name in SNDFILE_FORMATS)


def _alac_bits(extradata: bytes | None) -> int | None:
    """Sample size from the ALAC magic cookie (ALACSpecificConfig.bitDepth)."""
    if not extradata:
        return None
    at = extradata.find(b"alac")
    offset = at + 4 + 4 + 4 + 1 if at >= 0 else 5  # after 'alac', version/flags, frameLength, compatibleVersion
    return extradata[offset] if len(extradata) > offset else None


def _head(path) -> bytes:
    """The first _HEADER_BYTES of a file, where WavPack and Monkey's Audio keep their headers."""
    with open(os.fsencode(path), "rb") as f:
        return f.read(_HEADER_BYTES)


def _wavpack_bits(path) -> int | None:
    """Bits per sample from the first WavPack block header, as libwavpack counts them.

    Bytes stored per sample (flags bits 0-1) times 8, less the shift (flags bits 13-17).
    """
    head = _head(path)
    at = head.find(b"wvpk")
    if at < 0 or len(head) < at + 28:
        return None
    (flags,) = struct.unpack_from("<I", head, at + 24)
    return ((flags & 3) + 1) * 8 - ((flags >> 13) & 31)


def _ape_bits(path) -> int | None:
    """Bits per sample from a Monkey's Audio header (descriptor layout from version 3.98)."""
    head = _head(path)
    at = head.find(b"MAC ")
    if at < 0 or len(head) < at + 64:
        return None
    (version,) = struct.unpack_from("<H", head, at + 4)
    if version >= 3980:
        (descriptor,) = struct.unpack_from("<I", head, at + 8)
        header = at + descriptor
        if len(head) < header + 16:
            return None
        return struct.unpack_from("<H", head, header + 16)[0]
    (flags,) = struct.unpack_from("<H", head, at + 8)
    return 8 if flags & 1 else 24 if flags & 8 else 16


class AvReader:
    """One audio stream opened through PyAV, read a window at a time (see the module doc).

    ``subtype`` follows soundfile's names ("PCM_16", "PCM_24", "PCM_32", "PCM_U8", "FLOAT",
    "DOUBLE"; "PCM_20" and the like for odd ALAC depths) and ``format`` the table's
    ("ALAC", "WAVPACK", "APE"). Raises :class:`~penthy_model.formats.NotLossless` for a
    lossy stream and :class:`~penthy_model.formats.ExtraMissing` without PyAV.
    """

    def __init__(self, path):
        self.path = path
        av = self._av = _import_av(format_of(path))
        try:
            self._opened = _Opened(av, path)
        except av.FFmpegError as exc:
            _reraise(exc, path)
        self.container = self._opened.container
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self) -> None:
        stream = self.stream = _audio_stream(self.container, self.path)
        context = stream.codec_context
        self.format, lossless = codec_format(context.name)
        if not lossless:
            raise NotLossless(self.format, self.path)
        self.samplerate = int(context.sample_rate)
        self.channels = int(context.channels)
        if not self.samplerate or not self.channels:
            raise ValueError(f"{os.fsdecode(self.path)}: the stream declares no sample rate or channels")
        self._to_samples = stream.time_base * self.samplerate  # stream ticks -> samples
        if stream.duration is not None and stream.duration > 0:
            self.frames = int(stream.duration * self._to_samples)
        elif self.container.duration:  # microseconds, for streams that do not state their length
            self.frames = int(Fraction(self.container.duration, 1_000_000) * self.samplerate)
        else:
            raise ValueError(f"{os.fsdecode(self.path)}: the stream does not say how long it is")
        sample_format = context.format.name.rstrip("p")  # planar or packed: the same samples
        width = {"u8": 8, "s16": 16, "s32": 32}.get(sample_format)
        self.is_int = width is not None
        self._u8 = sample_format == "u8"
        if self.is_int:
            self._shift = 32 - width
            # The decode's width is not always the stored depth: FFmpeg gives 24-bit audio
            # in 32 bits and 8-bit WavPack in 16, both left-justified; the header knows.
            bits = self._stored_bits()
            bits = bits if bits and 8 <= bits <= width else width
            self.subtype = {8: "PCM_U8" if self._u8 else "PCM_S8"}.get(bits, f"PCM_{bits}")
        elif sample_format in ("flt", "dbl"):
            self.subtype = "FLOAT" if sample_format == "flt" else "DOUBLE"
        else:
            raise ValueError(f"{os.fsdecode(self.path)}: unsupported sample format {context.format.name}")

    def _stored_bits(self) -> int | None:
        """The depth the codec's header declares (FFmpeg's decoders do not pass it through PyAV)."""
        if self.format == "ALAC":
            return _alac_bits(self.stream.codec_context.extradata)
        if self.format == "WAVPACK":
            return _wavpack_bits(self.path)
        if self.format == "APE":
            return _ape_bits(self.path)
        return None

    def close(self) -> None:
        self._opened.close()

    def _convert(self, frame) -> np.ndarray:
        """A decoded frame as (samples, channels): left-justified int32, or float32."""
        data = frame.to_ndarray()
        data = data if frame.format.is_planar else data.reshape(-1, self.channels).T
        if not self.is_int:
            return np.ascontiguousarray(data.T, dtype=np.float32)
        out = data.T.astype(np.int32)
        if self._u8:
            out -= 128
        if self._shift:
            out <<= self._shift
        return out

    def _seek(self, sample: int) -> None:
        self.container.seek(int(sample / self._to_samples), stream=self.stream, backward=True)

    def read(self, start: int, length: int) -> np.ndarray:
        """Samples ``start`` to ``start + length`` (of every channel), exactly.

        Raises ``RuntimeError`` when the stream ends early or its packets carry no
        timestamps, ``ValueError`` for corrupt data.
        """
        try:
            return self._read(start, length)
        except self._av.FFmpegError as exc:
            _reraise(exc, self.path)

    def _read(self, start: int, length: int) -> np.ndarray:
        end = start + length
        target, backoff = start, _BACKOFF_SAMPLES
        for _ in range(_BACKOFF_TRIES + 1):
            self._seek(target)
            chunks, position = [], None
            for frame in self.container.decode(self.stream):
                if position is None:
                    if frame.pts is None:
                        raise RuntimeError(f"{os.fsdecode(self.path)}: the decoder gives no timestamps to seek by")
                    position = int(round(frame.pts * self._to_samples))
                    if position > start:  # landed past the window: seek further back
                        break
                count = frame.samples
                if position + count > start:
                    data = self._convert(frame)
                    chunks.append(data[max(start - position, 0):end - position])
                position += count
                if position >= end:
                    return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
            else:
                got = sum(len(c) for c in chunks)
                raise RuntimeError(f"{os.fsdecode(self.path)}: file ends early: read {got} of {length} "
                                   f"samples at {start}")
            if target == 0:
                break
            target, backoff = max(target - backoff, 0), backoff * 2
        raise RuntimeError(f"{os.fsdecode(self.path)}: cannot seek to sample {start}")

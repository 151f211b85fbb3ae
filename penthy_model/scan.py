"""What both front ends (the ``penthy`` command and the beets plugin) share around the engine.

Which audio a stored verdict was made from (:func:`audio_identity`). Importing this module
is cheap: it loads nothing heavy.
"""

from __future__ import annotations

import os
import stat

FLAC_MAGIC = b"fLaC"
STREAMINFO_LENGTH = 34


def _flac_md5(head: bytes) -> bytes | None:
    """The MD5 of the decoded samples from a FLAC file's first bytes, None when absent.

    A FLAC stream starts with ``fLaC`` (possibly after an ID3v2 tag), then the
    STREAMINFO block: a 4-byte header and 34 bytes whose last 16 are the MD5 of the
    samples. An encoder that did not compute it leaves 16 zero bytes.
    """
    pos = 0
    if head[:3] == b"ID3" and len(head) >= 10:
        size = 0
        for byte in head[6:10]:  # a syncsafe integer: 7 bits per byte
            size = (size << 7) | (byte & 0x7F)
        pos = 10 + size + (10 if head[5] & 0x10 else 0)  # footer flag
    if head[pos:pos + 4] != FLAC_MAGIC:
        return None
    header = head[pos + 4:pos + 8]
    if len(header) < 4 or header[0] & 0x7F != 0 or int.from_bytes(header[1:4], "big") != STREAMINFO_LENGTH:
        return None
    info = head[pos + 8:pos + 8 + STREAMINFO_LENGTH]
    if len(info) < STREAMINFO_LENGTH:
        return None
    md5 = info[-16:]
    return None if md5 == bytes(16) else md5


def audio_identity(path) -> str | None:
    """A string that changes when a file's audio is replaced, None when it cannot be read.

    ``flac-md5:<hex>`` for a FLAC file whose STREAMINFO holds the samples' MD5 (editing
    its tags does not change it); ``stat:<size>:<mtime>`` otherwise (WAV, AIFF, a FLAC
    without MD5), which also changes when the file's tags are rewritten.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the open
            return None
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            head = fh.read(64)
            if head[:3] == b"ID3" and len(head) >= 10:
                fh.seek(0)
                size = 0
                for byte in head[6:10]:
                    size = (size << 7) | (byte & 0x7F)
                head = fh.read(10 + size + 10 + 8 + STREAMINFO_LENGTH)
    except OSError:
        return None
    md5 = _flac_md5(head)
    if md5 is not None:
        return f"flac-md5:{md5.hex()}"
    return f"stat:{st.st_size}:{int(st.st_mtime)}"

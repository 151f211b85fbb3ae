"""Read and write failures in words a person understands.

libsndfile and mutagen say ``Error opening b'…': System error.`` for a missing file, a
symbolic link loop and a deleted library file alike, ``Internal psf_fseek() failed.`` for
a truncated FLAC, and repeat the path in every layer of their messages. :func:`describe`
turns such an exception into a short phrase without the path (the caller shows the path
once): "no such file", "too many levels of symbolic links", "truncated or corrupt FLAC",
"permission denied".
"""

from __future__ import annotations

import errno
import os
import re
import stat

_ERRNO = re.compile(r"\[Errno (\d+)\]")

# errno -> words (others: the system's own message, lower case)
_WORDS = {
    errno.ENOENT: "no such file",
    errno.ELOOP: "too many levels of symbolic links",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted (an immutable file?)",
    errno.EROFS: "read-only file system",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOSPC: "no space left on the device",
    errno.ENAMETOOLONG: "file name too long",
    errno.ENOTDIR: "a folder in the path is a file",
}

# libsndfile messages -> words, for a file that exists and is a regular file
_SNDFILE = (
    ("psf_fseek", "truncated or corrupt {format}"),
    ("file ends early", "truncated or corrupt {format}"),
    ("unexpected end of file", "truncated or corrupt {format}"),
    ("format not recognised", "not {a_format} file, or a corrupt one"),
    ("format not recognized", "not {a_format} file, or a corrupt one"),
    ("unimplemented format", "{a_format} variant libsndfile cannot decode"),
    ("malformed file", "corrupt {format} file"),
    ("flac", "truncated or corrupt {format}"),  # FLAC decoder errors (lost sync, bad header, CRC)
)

_FORMAT_NAMES = {".flac": "FLAC", ".wav": "WAV", ".wave": "WAV", ".aif": "AIFF", ".aiff": "AIFF",
                 ".aifc": "AIFF", ".w64": "W64", ".rf64": "RF64", ".caf": "CAF"}


def os_error_words(code: int) -> str:
    """Words for an errno value."""
    if code in _WORDS:
        return _WORDS[code]
    return os.strerror(code).lower()


def path_problem(path) -> str | None:
    """What makes ``path`` unreadable as a file, found by looking at it; None when it is a
    regular file that can be opened."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return os_error_words(exc.errno) if exc.errno else str(exc)
    if stat.S_ISDIR(st.st_mode):
        return _WORDS[errno.EISDIR]
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a pipe, socket or device)"
    if not os.access(path, os.R_OK):
        return _WORDS[errno.EACCES]
    if st.st_size == 0:
        return "empty file"
    return None


def _errno_of(exc: BaseException) -> int | None:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno:
            return exc.errno
        for arg in getattr(exc, "args", ()):
            if isinstance(arg, OSError) and arg.errno:
                return arg.errno
        found = _ERRNO.search(str(exc))
        if found:
            return int(found.group(1))
        exc = exc.__cause__ or exc.__context__
    return None


def describe(exc: BaseException, path=None) -> str:
    """A failure to read or write ``path`` in a few words, without the path itself."""
    from .formats import ExtraMissing, NotLossless

    if isinstance(exc, (ExtraMissing, NotLossless)):
        return str(exc)  # already in words
    code = _errno_of(exc)
    if code is not None:
        return os_error_words(code)
    if path is not None:
        problem = path_problem(path)
        if problem is not None:
            return problem
    text = " ".join(str(exc).split()) or type(exc).__name__
    lower = text.lower()
    if path is not None:
        ext = os.path.splitext(os.fsdecode(path))[1].lower()
        fmt = _FORMAT_NAMES.get(ext, "audio")
        a_format = f"{'an' if fmt[0] in 'AEIOUaeiou' else 'a'} {fmt}"
        for needle, words in _SNDFILE:
            if needle in lower:
                return words.format(format=fmt, a_format=a_format)
        if "system error" in lower:
            return f"cannot read the {fmt} file"
    return _without_paths(text, path)


def _without_paths(text: str, path) -> str:
    """``text`` with the path (as str, bytes repr or quoted) taken out."""
    if path is None:
        return text
    name = os.fsdecode(path)
    for form in (repr(os.fsencode(path)), repr(name), f'"{name}"', name):
        text = text.replace(form, "").strip()
    text = re.sub(r"^(Error opening\s*)?:\s*", "", text).strip()
    return text or "cannot be read"

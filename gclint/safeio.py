"""Reading a file the repository may have made hostile: a FIFO that never
delivers, /dev/zero, a symbolic link, a file that grows while read."""
from __future__ import annotations

import os
import stat
from typing import Optional

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class TooLarge(ValueError):
    """The file holds more than the limit."""


def read_regular_file(name: str, limit: int, dir_fd: Optional[int] = None, follow: bool = False) -> bytes:
    """At most `limit` bytes of a regular file, never blocking on a FIFO or
    reading a device; ValueError when it is not a regular file or is larger."""
    # O_NONBLOCK: opening a FIFO does not wait for a writer (fstat then
    # refuses it); it changes nothing for a regular file.
    flags = _READ_FLAGS if follow else _READ_FLAGS | _NOFOLLOW
    fd = os.open(name, flags, dir_fd=dir_fd) if dir_fd is not None else os.open(name, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"not a regular file ({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise TooLarge(f"{info.st_size} bytes, over the limit of {limit}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise TooLarge(f"grew past the limit of {limit} bytes while being read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")

"""Opening text inputs: a plain message for binary, UTF-16 or unreadable files, and the CSV
header every CSV detector reads."""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Callable, Iterator


from ...errors import InputError


LONG_KEYS = {"query_id", "model", "correct"}


def _read_header(path: str) -> list[str]:
    # utf-8-sig: a byte-order mark (as Excel writes) is not part of the first column name
    delim = "\t" if path.lower().endswith(".tsv") else ","
    with open(path, newline="", encoding="utf-8-sig") as f:
        return next(csv.reader(f, delimiter=delim), [])


_MAGIC = ((b"\x89HDF\r\n\x1a\n", "an HDF5 file"), (b"\x1f\x8b", "gzip-compressed"),
          (b"PK\x03\x04", "a zip archive"), (b"PAR1", "a Parquet file"),
          (b"\x28\xb5\x2f\xfd", "zstd-compressed"), (b"BZh", "bzip2-compressed"),
          (b"\xfd7zXZ\x00", "xz-compressed"))


def check_text_file(path: str, what: str = "a UTF-8 text file") -> None:
    """Raise :class:`InputError` unless ``path`` looks like UTF-8 text: it names a
    directory, a binary file (HDF5, gzip, zip, Parquet, NUL bytes) or UTF-16 text
    plainly instead of letting a decoder fail later."""
    if os.path.isdir(path):
        raise InputError(f"is a directory, not {what}", source=path, hint="name the file itself")
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise InputError(f"cannot be read ({e.strerror})", source=path,
                         hint="check the path and permissions") from None
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise InputError(f"is {kind}, not {what}", source=path,
                             hint="check the file name, or convert it with 'cofail convert'")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"is UTF-16 text, not {what}", source=path,
                         hint="save it as UTF-8 (in Excel: 'CSV UTF-8')")
    if b"\x00" in head:
        raise InputError(f"is a binary file (it holds NUL bytes), not {what}", source=path,
                         hint="check the file name and --format")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not just a character cut at the 4096-byte boundary
            raise InputError(f"is not UTF-8 text (byte {e.start + 1}), not {what}", source=path,
                             hint="save it as UTF-8") from None


def _open_text(path: str):
    check_text_file(path)
    try:
        return open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise InputError(f"cannot be read ({e.strerror})", source=path,
                         hint="check the path and permissions") from None


@contextlib.contextmanager
def csv_errors(path: str, line: Callable[[], int]) -> Iterator[None]:
    """The csv module's errors while reading ``path`` as one-line :class:`InputError`s
    naming the row (``line()`` is the reader's current line number)."""
    try:
        yield
    except csv.Error as e:
        raise InputError(f"is not valid CSV ({e})", source=path,
                         where=f"row {line()}") from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", source=path, where=f"after row {line()}",
                         hint="save it as UTF-8") from None

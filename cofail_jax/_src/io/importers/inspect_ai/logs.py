"""Finding and reading Inspect logs: ``.eval`` zip archives (deflate or zstd entries) and
``.json`` logs, through msgspec when it is installed, else as dicts."""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib

from ....errors import InputError
from ...typed import FileSnapshot
from .._common import _BOM, fast_errors, files_with_suffix, msgspec_ok, parse_json_bytes, read_json


_JSON_LOG_HEAD = re.compile(r'\s*\{\s*"version"\s*:\s*\d')
_SAMPLE_RE = re.compile(r"^samples/(?P<id>.+)_epoch_(?P<epoch>\d+)\.json$")


# The same test on an ASCII head without CR (text mode reads it unchanged): ``\s`` of
# str matches \x1c-\x1f too
_JSON_LOG_HEAD_ASCII = re.compile(
    rb'[\s\x1c-\x1f]*\{[\s\x1c-\x1f]*"version"[\s\x1c-\x1f]*:[\s\x1c-\x1f]*[0-9]')


def _is_json_log(path: str) -> bool:
    if not path.lower().endswith(".json") or not os.path.isfile(path):
        return False
    with open(path, "rb") as fb:
        raw = fb.read(4096)
    if raw.isascii() and b"\r" not in raw:  # the usual case, without decoding text
        return bool(_JSON_LOG_HEAD_ASCII.match(raw)) and b'"eval"' in raw
    with open(path, encoding="utf-8", errors="replace") as f:
        head = f.read(4096)
    # An EvalLog starts {"version": N, ...}; an eval-set's logs.json index starts with
    # a file name, so it is not mistaken for a log.
    return bool(_JSON_LOG_HEAD.match(head)) and '"eval"' in head


def _is_eval_zip(path: str) -> bool:
    """A ``.eval`` file: taken by its name, so a damaged archive gets a precise message."""
    return path.lower().endswith(".eval") and os.path.isfile(path)


def _log_files(path: str) -> list[str]:
    return [
        f
        for f in files_with_suffix(path, (".eval", ".json"))
        if f.lower().endswith(".eval") or _is_json_log(f)
    ]


def detect(path: str) -> bool:
    if os.path.isfile(path):
        return _is_eval_zip(path) or _is_json_log(path)
    return os.path.isdir(path) and bool(_log_files(path))


def _sample_order(name: str) -> tuple:
    """Sort archive entries by epoch, then id (numerically when ids are numbers)."""
    mt = _SAMPLE_RE.match(name)
    sid = mt.group("id")
    return (int(mt.group("epoch")), (0, int(sid), "") if sid.isdigit() else (1, 0, sid))


ZIP_ZSTD = 93  # zip compression method id of Zstandard (APPNOTE 6.3.7, section 4.4.5)


def _zstd_decompress(data: bytes) -> bytes | None:
    """Decompress a zstd frame with whichever zstd binding is installed, else None."""
    for mod in ("compression.zstd", "backports.zstd", "pyzstd"):
        try:
            lib = __import__(mod, fromlist=["decompress"])
        except ImportError:
            continue
        return lib.decompress(data)
    try:
        import zstandard
    except ImportError:
        return None
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def _read_zstd_entry(z: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> bytes:
    """The bytes of a zstd-compressed entry (Inspect writes these since 2025), read from
    the local file header, for Pythons whose zipfile lacks zstd (before 3.14)."""
    import struct

    fp = z.fp
    fp.seek(info.header_offset)
    head = fp.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    n_name, n_extra = struct.unpack("<HH", head[26:30])
    fp.seek(info.header_offset + 30 + n_name + n_extra)
    data = _zstd_decompress(fp.read(info.compress_size))
    if data is None:
        raise InputError(
            "uses zstd compression, and no zstd module is installed",
            source=path,
            where=info.filename,
            hint="pip install zstandard, or convert it with "
            "'inspect log convert --to json' and read the .json log",
        )
    if zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"CRC mismatch in {info.filename}")
    return data


def _zip_read(z: zipfile.ZipFile, name: str, path: str) -> bytes:
    try:
        info = z.getinfo(name)
        if info.compress_type == ZIP_ZSTD and not _zipfile_has_zstd():
            return _read_zstd_entry(z, info, path)
        return z.read(name)
    except InputError:
        raise
    except NotImplementedError as e:
        raise InputError(
            f"uses a zip compression this Python cannot read ({e})",
            source=path,
            where=name,
            hint="convert it with 'inspect log convert --to json' and read the .json log",
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as e:
        raise InputError(
            f"is a damaged .eval archive ({e})",
            source=path,
            where=name,
            hint="the log may be truncated; re-run or re-copy it",
        ) from None


def _zipfile_has_zstd() -> bool:
    return getattr(zipfile, "ZIP_ZSTANDARD", None) == ZIP_ZSTD


class _TypedSamples(list):
    """A log's samples decoded by msgspec (``_typed.InspectSample``); ``names`` are the
    archive members they came from (None for a .json log)."""

    names: list[str] | None = None


class _ScoreSamples(list):
    """A log's samples decoded for the matrix only (``_typed.InspectSampleScores``: id,
    epoch, score values); ``names``: the archive members they came from (None for a
    .json log); ``snap``: the file as read, to read it again for the metadata."""

    names: list[str] | None = None
    snap: FileSnapshot | None = None


def _read_again(snap: FileSnapshot, names: list[str] | None, typed: bool) -> list:
    """The samples of a log read before (unchanged since, else InputError): decoded with
    every field the loader reads (``typed``, a :class:`_TypedSamples`), or as
    :func:`_read_log`'s record path gives them."""
    from .. import _typed

    data = snap.read()
    path = snap.path
    if names is None:
        data = data[3:] if data.startswith(_BOM) else data
        if typed:
            return _TypedSamples(_typed.INSPECT_LOG.decode(data).samples or ())
        log = parse_json_bytes(data, source=path, where="", what="Inspect log")
        return [(s, None) for s in (log.get("samples") or [])]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        blobs = [_zip_read(z, n, path) for n in names]
    if typed:
        out = _TypedSamples(map(_typed.INSPECT_SAMPLE.decode, blobs))
        out.names = names
        return out
    return [(parse_json_bytes(b, source=path, where=n, what="Inspect sample"), n)
            for n, b in zip(names, blobs)]


def _read_log_scores(path: str) -> tuple[dict, _ScoreSamples]:
    """:func:`_read_log` through msgspec, decoding ids, epochs and score values only;
    any problem raises one of ``fast_errors()`` and the caller reads the slow way."""
    from .. import _typed

    snap = FileSnapshot.of(path)
    if path.lower().endswith(".eval"):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            head = "header.json" if "header.json" in names else "_journal/start.json"
            header = parse_json_bytes(_zip_read(z, head, path), source=path, where=head,
                                      what="Inspect log header")
            if type(header) is not dict:
                raise ValueError(path)
            members = sorted((n for n in names if _SAMPLE_RE.match(n)), key=_sample_order)
            dec = _typed.INSPECT_SAMPLE_SCORES.decode
            samples = _ScoreSamples(dec(_zip_read(z, n, path)) for n in members)
        samples.names, samples.snap = members, snap
        return header, samples
    with open(path, "rb") as f:
        data = f.read()
    log = _typed.INSPECT_LOG_SCORES.decode(data[3:] if data.startswith(_BOM) else data)
    del data
    samples = _ScoreSamples(log.samples or ())
    samples.snap = snap
    return _typed.present(log, ("eval", "status", "error")), samples


def _read_log(path: str, typed: bool = True) -> tuple[dict, list]:
    """The log header and its samples, each with a location string for messages (or,
    through msgspec when installed, a :class:`_ScoreSamples`)."""
    if typed and msgspec_ok():
        try:
            return _read_log_scores(path)
        except (zipfile.BadZipFile, OSError, *fast_errors()):
            pass
    if path.lower().endswith(".eval"):
        try:
            z = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise InputError(
                "is not a valid .eval archive (bad zip file)",
                source=path,
                hint="the log may be truncated; re-run or re-copy it",
            ) from None
        with z:
            names = z.namelist()
            if "header.json" in names:
                header = parse_json_bytes(
                    _zip_read(z, "header.json", path),
                    source=path,
                    where="header.json",
                    what="Inspect log header",
                )
            elif "_journal/start.json" in names:  # a run that never finished
                header = parse_json_bytes(
                    _zip_read(z, "_journal/start.json", path),
                    source=path,
                    where="_journal/start.json",
                    what="Inspect log header",
                )
            else:
                raise InputError(
                    "has no header.json", source=path, hint="is this an Inspect AI .eval log?"
                )
            samples = []
            for name in sorted((n for n in names if _SAMPLE_RE.match(n)), key=_sample_order):
                if _SAMPLE_RE.match(name):
                    s = parse_json_bytes(
                        _zip_read(z, name, path), source=path, where=name, what="Inspect sample"
                    )
                    samples.append((s, name))
        return header, samples
    log = read_json(path, what="Inspect log")
    if not isinstance(log, dict):
        raise InputError(
            "is not an Inspect log (top level is not an object)",
            source=path,
            hint="write logs with inspect eval --log-format json",
        )
    samples = log.get("samples") or []
    if not isinstance(samples, list):
        raise InputError(
            "'samples' is not a list",
            source=path,
            where="samples",
            hint="is this an Inspect AI log?",
        )
    return log, [(s, None) for s in samples]  # where: samples[i], named on error

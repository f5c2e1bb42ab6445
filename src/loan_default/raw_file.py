"""Look at the raw loan file before pandas does, so its problems reach the user in plain words."""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import importlib
import io
import logging
import lzma
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import pandas as pd

from loan_default.config_checks import referenced_columns
from loan_default.validation import DataValidationError, describe_examples

logger = logging.getLogger(__name__)

# Enough lines to judge a delimiter; the byte cap keeps a file of huge lines from being read whole.
SAMPLE_LINES = 50
SAMPLE_BYTES = 1 << 20
CHUNK_BYTES = 1 << 16
SNIFF_LINES = 20
CANDIDATE_DELIMITERS = ",;\t|"
# pandas' own suffix table, in its order, so that ".tar.gz" wins over ".gz".
SUFFIX_COMPRESSION = {
    ".tar": "tar",
    ".tar.gz": "tar",
    ".tar.bz2": "tar",
    ".tar.xz": "tar",
    ".gz": "gzip",
    ".bz2": "bz2",
    ".zip": "zip",
    ".xz": "xz",
    ".zst": "zstd",
}
MAGIC_COMPRESSION = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}
# Read through a compressed file in pieces this size to prove it decompresses to the end.
INTEGRITY_CHUNK = 1 << 20
DECOMPRESSION_ERRORS = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    tarfile.TarError,
)
WHERE_CONFIGURED = "`raw_loans_file` in conf/<env>/globals.yml (or the `raw_loans` catalog entry)"
# An environment's catalog entry replaces base's whole entry, so the advice says to write it all.
CATALOG = (
    "conf/<env>/catalog.yml, as a complete entry: `raw_loans: {type: pandas.CSVDataset, "
    "filepath: ${globals:raw_loans_file}, load_args: {...}}` (docs/own-data.md)"
)


def inspect_raw_file(path: str | Path, load_args: dict[str, Any] | None = None) -> list[str]:
    """Check the start of the raw CSV the way pandas will read it; return its column names."""
    path, load_args = Path(path), load_args or {}
    _require_file(path)
    compression = _compression(path, load_args)
    data, complete = _read_sample(path, compression)
    if compression is not None and not complete:
        # pandas would fail only where the damage is, with the path buried in its traceback.
        require_intact(path, compression)
    _require_not_compressed(path, data, compression)
    text = _decode(path, data, load_args, complete)
    _require_content(path, text, len(data), complete, compression)
    sep = _separator(path, text, load_args, complete)
    try:
        rows = _rows(text, sep, load_args, complete)
    except csv.Error as error:
        raise DataValidationError(
            f"{path}: the first lines cannot be read as CSV with sep {sep!r} ({error}): check "
            f"`raw_loans.load_args` (sep, quotechar, escapechar) in {CATALOG}."
        ) from error
    return _columns(path, rows, load_args, complete)


def check_empty_columns(raw: pd.DataFrame, dataset: dict[str, Any], source: str) -> list[str]:
    """Raise when a column the configuration uses has no value; warn about other empty columns."""
    return report_empty_columns(_empty_columns(raw), len(raw), dataset, source)


def report_empty_columns(
    empty: list[str], n_rows: int, dataset: dict[str, Any], source: str
) -> list[str]:
    """`check_empty_columns` on columns already known to be empty in all `n_rows` rows."""
    users = _column_users(dataset)
    needed = {column: users[column] for column in empty if column in users}
    if needed:
        raise DataValidationError(_empty_columns_message(source, needed, n_rows))
    optional = [c for c in empty if c in (dataset.get("optional_text_columns") or [])]
    if optional:
        logger.warning(
            "%s: text column(s) %s are empty in all %s rows; dataset.text_columns uses them and "
            "dataset.optional_text_columns allows it: the model is trained without their text.",
            source,
            describe_examples(optional),
            f"{n_rows:,}",
        )
    unused = [c for c in empty if c not in optional]
    if unused:
        logger.warning(
            "%s: column(s) %s are empty in all %s rows; no dataset parameter uses them.",
            source,
            describe_examples(unused),
            f"{n_rows:,}",
        )
    return empty


def require_intact(path: str | Path, compression: str | None = "infer") -> None:
    """Raise when a compressed file does not decompress to its end (truncated or corrupt)."""
    path = Path(path)
    method = _compression(path, {"compression": compression})
    if method is None:
        return
    try:
        with ExitStack() as stack:
            stream = _open(path, method, stack)
            while stream.read(INTEGRITY_CHUNK):
                pass
    except DECOMPRESSION_ERRORS as error:
        if isinstance(error, PermissionError):
            raise DataValidationError(
                f"{path} cannot be read ({error}): check that the file is readable."
            ) from error
        raise DataValidationError(_damaged(path, method, error)) from error


def _damaged(path: Path, compression: str, error: Exception) -> str:
    """The message for a compressed file that stops decompressing before its end."""
    cause = str(error) or type(error).__name__
    return (
        f"{path}: the {compression} file is truncated or corrupt ({cause}): re-download it or "
        "compress it again; nothing was written."
    )


def _starts_as(path: Path, compression: str) -> bool:
    """Whether the file's first bytes are those of `compression` (any compression for tar)."""
    with path.open("rb") as raw:
        head = raw.read(512)
    methods = {name for magic, name in MAGIC_COMPRESSION.items() if head.startswith(magic)}
    if compression == "tar":
        return bool(methods) or head[257:262] == b"ustar"
    return compression in methods


def _require_file(path: Path) -> None:
    """Raise when the configured path is missing or is a folder."""
    if path.is_dir():
        raise DataValidationError(
            f"{path} is a folder, not a file: point {WHERE_CONFIGURED} at the CSV file itself."
        )
    if not path.exists():
        # A relative path resolves against the working directory, which is often the surprise.
        looked = "" if path.is_absolute() else f" (looked for {path.resolve()})"
        raise DataValidationError(
            f"{path} does not exist{looked}: {WHERE_CONFIGURED} points at it; fix that path "
            "or put the file there."
        )


def _compression(path: Path, load_args: dict[str, Any]) -> str | None:
    """The compression pandas will use: configured, or inferred from the suffix."""
    compression = load_args.get("compression", "infer")
    if isinstance(compression, dict):
        compression = compression.get("method")
    if compression != "infer":
        return compression
    name = str(path).lower()
    return next((method for end, method in SUFFIX_COMPRESSION.items() if name.endswith(end)), None)


def _read_sample(path: Path, compression: str | None) -> tuple[bytes, bool]:
    """The first decompressed bytes of the file and whether they are all of it."""
    try:
        with ExitStack() as stack:
            return _read_lines(_open(path, compression, stack))
    except DECOMPRESSION_ERRORS as error:
        if compression is None or isinstance(error, PermissionError):
            raise DataValidationError(
                f"{path} cannot be read ({error}): check that the file is readable."
            ) from error
        if _starts_as(path, compression):
            raise DataValidationError(_damaged(path, compression, error)) from error
        raise DataValidationError(
            f"{path} cannot be read as {compression} ({error}): check that it is a complete "
            f"{compression} file, or set `raw_loans.load_args.compression` to its real "
            f"compression (null for plain CSV) in {CATALOG}."
        ) from error


def _open(path: Path, compression: str | None, stack: ExitStack) -> IO[bytes]:
    """A stream of the file's bytes after decompression, closed with `stack`."""
    raw = stack.enter_context(path.open("rb"))
    if compression is None:
        return raw
    if compression not in DECOMPRESSORS:
        raise DataValidationError(
            f"{path}: `raw_loans.load_args.compression: {compression}` is not a compression "
            f"pandas reads: use infer, gzip, bz2, zip, xz, zstd, tar or null in {CATALOG}."
        )
    return DECOMPRESSORS[compression](path, raw, stack)


def _zip_member(path: Path, archive: zipfile.ZipFile) -> IO[bytes]:
    """The single file inside a zip archive, which is all pandas accepts."""
    names = archive.namelist()
    if len(names) != 1:
        raise DataValidationError(
            f"{path} holds {len(names)} files {describe_examples(names)}, but pandas reads a zip "
            "with exactly one file: zip the loan CSV on its own."
        )
    return archive.open(names[0])


def _tar_member(path: Path, archive: tarfile.TarFile) -> IO[bytes]:
    """The first regular file inside a tar archive."""
    member = next((member for member in archive if member.isfile()), None)
    stream = archive.extractfile(member) if member is not None else None
    if stream is None:
        raise DataValidationError(f"{path} holds no file: put the loan CSV in the archive.")
    return stream


def _zstd_reader(path: Path, raw: IO[bytes]) -> Any:
    """A zstandard stream reader; the package is optional, as it is for pandas."""
    try:
        zstandard = importlib.import_module("zstandard")
    except ImportError as error:
        raise DataValidationError(
            f"{path} is zstd-compressed but the `zstandard` package is not installed: install "
            "it, or recompress the file as .csv.gz."
        ) from error
    return zstandard.ZstdDecompressor().stream_reader(raw)


# Each opens the decompressed stream of a raw file and registers what must be closed.
DECOMPRESSORS: dict[str, Callable[[Path, IO[bytes], ExitStack], IO[bytes]]] = {
    "gzip": lambda _, raw, stack: stack.enter_context(gzip.GzipFile(fileobj=raw)),
    "bz2": lambda _, raw, stack: stack.enter_context(bz2.BZ2File(raw)),
    "xz": lambda _, raw, stack: stack.enter_context(lzma.LZMAFile(raw)),
    "zip": lambda path, raw, stack: stack.enter_context(
        _zip_member(path, stack.enter_context(zipfile.ZipFile(raw)))
    ),
    "tar": lambda path, raw, stack: _tar_member(
        path, stack.enter_context(tarfile.open(fileobj=raw, mode="r:*"))
    ),
    "zstd": lambda path, raw, stack: stack.enter_context(_zstd_reader(path, raw)),
}


def _read_lines(stream: IO[bytes]) -> tuple[bytes, bool]:
    """Up to SAMPLE_LINES lines (at most about SAMPLE_BYTES) and whether the stream ended."""
    data = b""
    while data.count(b"\n") <= SAMPLE_LINES and len(data) < SAMPLE_BYTES:
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            return data, True
        data += chunk
    return data, not stream.read(1)


def _require_not_compressed(path: Path, data: bytes, compression: str | None) -> None:
    """Raise when a file read as plain text starts like a compressed archive."""
    if compression is not None:
        return
    method = next(
        (name for magic, name in MAGIC_COMPRESSION.items() if data.startswith(magic)), None
    )
    if method is None:
        return
    workbook = "; an Excel workbook (.xlsx) must be saved as CSV first" if method == "zip" else ""
    raise DataValidationError(
        f"{path} is {method}-compressed but is read as plain text: set "
        f"`raw_loans.load_args.compression: {method}` in {CATALOG}{workbook}."
    )


def _decode(path: Path, data: bytes, load_args: dict[str, Any], complete: bool) -> str:
    """The sample as text in the configured encoding, without a byte order mark."""
    encoding = load_args.get("encoding") or "utf-8"
    try:
        decoder = codecs.getincrementaldecoder(encoding)(
            load_args.get("encoding_errors") or "strict"
        )
    except LookupError as error:
        raise DataValidationError(
            f"{path}: `raw_loans.load_args.encoding: {encoding}` is not an encoding Python knows: "
            f"use e.g. utf-8, latin-1 or cp1252 in {CATALOG}."
        ) from error
    try:
        # Not final unless the sample is the whole file: it may end inside a multi-byte character.
        return decoder.decode(data, final=complete).removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise DataValidationError(_encoding_message(path, data, error, encoding)) from error


def _encoding_message(path: Path, data: bytes, error: UnicodeDecodeError, encoding: str) -> str:
    """Where the sample stops being valid in `encoding`, and the setting that fixes it."""
    line = data.count(b"\n", 0, error.start) + 1
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    suggestion = "utf-16`" if utf16 else "latin-1` (or cp1252)"
    return (
        f"{path}: byte 0x{data[error.start]:02x} at offset {error.start:,} (line {line}) is not "
        f"valid {encoding}, so the file uses another encoding: set "
        f"`raw_loans.load_args.encoding: {suggestion} in {CATALOG}."
    )


def _require_content(
    path: Path, text: str, size: int, complete: bool, compression: str | None
) -> None:
    """Raise when the file has no bytes or nothing but whitespace."""
    decompressed = f" once {compression}-decompressed" if compression else ""
    if size == 0:
        raise DataValidationError(
            f"{path} is empty (0 bytes{decompressed}): export the loan table into it, or point "
            f"{WHERE_CONFIGURED} at the right file."
        )
    if complete and not text.strip():
        raise DataValidationError(
            f"{path} contains only whitespace ({size:,} bytes): export the loan table into it, "
            f"or point {WHERE_CONFIGURED} at the right file."
        )


def _separator(path: Path, text: str, load_args: dict[str, Any], complete: bool) -> str:
    """The configured separator once the first lines agree with it; raise when another fits."""
    configured = load_args.get("sep", load_args.get("delimiter", ","))
    if configured is None:
        # pandas sniffs the separator itself when it is null.
        return _sniff(text, CANDIDATE_DELIMITERS) or ","
    if len(configured) != 1:
        # A regular expression: pandas splits with it, there is nothing to compare.
        return configured
    widths = _widths(text, configured, load_args, complete)
    if not widths or (len(set(widths)) == 1 and widths[0] > 1):
        return configured
    better = _better_delimiter(text, configured, widths, load_args, complete)
    if better is not None:
        raise DataValidationError(_delimiter_message(path, configured, widths, *better))
    return configured


def _better_delimiter(
    text: str, configured: str, widths: list[int], load_args: dict[str, Any], complete: bool
) -> tuple[str, int] | None:
    """Another candidate delimiter with more columns than `configured`, as many on every line."""
    candidates = CANDIDATE_DELIMITERS.replace(configured, "")
    # The sniffer's choice first; the plain count over the other candidates covers its misses.
    for delimiter in dict.fromkeys([_sniff(text, candidates), *candidates]):
        other = _widths(text, delimiter, load_args, complete) if delimiter else []
        if other and len(set(other)) == 1 and other[0] > max(widths[0], 1):
            return delimiter, other[0]
    return None


def _sniff(text: str, candidates: str) -> str | None:
    """The delimiter csv.Sniffer picks among `candidates` from the first lines, if any."""
    sample = "\n".join(text.splitlines()[:SNIFF_LINES])
    try:
        return csv.Sniffer().sniff(sample, delimiters=candidates).delimiter
    except csv.Error:
        return None


def _widths(text: str, delimiter: str, load_args: dict[str, Any], complete: bool) -> list[int]:
    """Fields per non-blank row with `delimiter`; empty when the text does not parse with it."""
    try:
        return [len(row) for row in _rows(text, delimiter, load_args, complete)]
    except csv.Error:
        return []


def _rows(text: str, sep: str, load_args: dict[str, Any], complete: bool) -> list[list[str]]:
    """The non-blank rows of the sample, split as pandas would split them."""
    if len(sep) == 1:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, **_dialect(load_args))
        rows = [row for row in reader if any(field.strip() for field in row)]
    else:
        rows = [re.split(sep, line.strip()) for line in text.splitlines() if line.strip()]
    # The sample may stop in the middle of its last row.
    return rows if complete else rows[:-1]


def _dialect(load_args: dict[str, Any]) -> dict[str, Any]:
    """The csv.reader quoting options matching pandas' read_csv arguments."""
    quoting = csv.QUOTE_NONE if load_args.get("quoting") == csv.QUOTE_NONE else csv.QUOTE_MINIMAL
    return {
        "quotechar": load_args.get("quotechar") or '"',
        "doublequote": load_args.get("doublequote", True),
        "escapechar": load_args.get("escapechar"),
        "skipinitialspace": bool(load_args.get("skipinitialspace", False)),
        "quoting": quoting,
    }


def _columns(
    path: Path, rows: list[list[str]], load_args: dict[str, Any], complete: bool
) -> list[str]:
    """The column names pandas gives the table; raise when it has no data rows."""
    if not rows:
        raise DataValidationError(
            f"{path}: no complete line in its first {SAMPLE_BYTES:,} bytes, so it is not a loan "
            f"table: point {WHERE_CONFIGURED} at the CSV file."
        )
    names, header = load_args.get("names"), load_args.get("header", "infer")
    if header is None or (header == "infer" and names is not None):
        return (
            [str(name) for name in names]
            if names is not None
            else list(map(str, range(len(rows[0]))))
        )
    position = header if isinstance(header, int) else 0
    if complete and len(rows) <= position + 1:
        raise DataValidationError(
            f"{path} has a header ({len(rows[-1])} columns) but no data "
            f"rows: export the table with its rows, or point {WHERE_CONFIGURED} at a file that "
            "has them."
        )
    if names is not None:
        return [str(name) for name in names]
    return _pandas_names(rows[position])


def _pandas_names(header: list[str]) -> list[str]:
    """Header fields named as pandas names them: blank -> 'Unnamed: i', repeats -> 'a.1', 'a.2'."""
    names = [field or f"Unnamed: {position}" for position, field in enumerate(header)]
    counts: dict[str, int] = {}
    for position, name in enumerate(names):
        count, column = counts.get(name, 0), name
        # Same loop as pandas: skip suffixes that another header field already has.
        while count > 0:
            counts[name] = count + 1
            column = f"{name}.{count}"
            count = count + 1 if column in names else counts.get(column, 0)
        names[position] = column
        counts[column] = count + 1
    return names


def _empty_columns(raw: pd.DataFrame) -> list[str]:
    """Columns without a value in any row: all missing, or blank text only."""
    if raw.empty:
        # Without rows every column would count as empty; the missing rows are the problem.
        return []
    return [
        str(column)
        for position, column in enumerate(raw.columns)
        if _is_empty(raw.iloc[:, position])
    ]


def _is_empty(column: pd.Series) -> bool:
    """Whether the column holds nothing but missing values and blank strings."""
    values = column.dropna()
    if values.empty:
        return True
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return False
    return bool(values.astype(str).str.strip().eq("").all())


def _column_users(dataset: dict[str, Any]) -> dict[str, list[str]]:
    """Every column the dataset parameters use, by the keys that name it."""
    users = referenced_columns(dataset)

    def add(column: Any, key: str) -> None:
        if column and key not in users.setdefault(str(column), []):
            users[str(column)].append(key)

    add((dataset.get("target") or {}).get("column"), "dataset.target.column")
    add(dataset.get("date_column"), "dataset.date_column")
    for column in dataset.get("column_types") or {}:
        add(column, "dataset.column_types")
    return users


def _empty_columns_message(source: str, needed: dict[str, list[str]], rows: int) -> str:
    """One line naming each empty column, the keys that use it, and the fix."""
    # A text column may also be declared optional: the model is then trained without it.
    text = any("dataset.text_columns" in keys for keys in needed.values())
    optional = ", or list it in dataset.optional_text_columns" if text else ""
    if len(needed) == 1:
        [(column, keys)] = needed.items()
        verb = "uses" if len(keys) == 1 else "use"
        return (
            f"{source}: column '{column}' is empty in all {rows:,} rows, but {', '.join(keys)} "
            f"{verb} it: fill it or remove it from those keys{optional}."
        )
    details = "; ".join(f"'{column}': {', '.join(keys)}" for column, keys in needed.items())
    columns = ", ".join(f"'{column}'" for column in needed)
    return (
        f"{source}: columns {columns} are empty in all {rows:,} rows, but the configuration uses "
        f"them ({details}): fill them or remove them from those keys"
        f"{', or list a text column in dataset.optional_text_columns' if text else ''}."
    )


def _delimiter_message(
    path: Path, configured: str, widths: list[int], found: str, width: int
) -> str:
    """The delimiter the file seems to use, what the configured one gives, and the setting."""
    if len(set(widths)) == 1:
        seen = f"{widths[0]} with {_shown(configured)}"
    else:
        seen = f"{min(widths)} to {max(widths)} per line with {_shown(configured)}"
    sep = '"\\t"' if found == "\t" else f"'{found}'"
    return (
        f"{path} looks {_shown(found)}-separated ({width} columns with {_shown(found)}, {seen}): "
        f"set `raw_loans.load_args.sep: {sep}` in {CATALOG}."
    )


def _shown(delimiter: str) -> str:
    """A delimiter as a message shows it."""
    return "tab" if delimiter == "\t" else f"`{delimiter}`"

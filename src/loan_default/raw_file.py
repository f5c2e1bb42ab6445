"""Read the start of the raw loan file with pandas, the way the catalog will read it, so that its
problems reach the user in plain words: pandas' typed exceptions, translated."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import lzma
import re
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.errors import EmptyDataError, ParserError
from pandas.io.common import get_handle, infer_compression

from loan_default.config.columns import column_references, columns_by_key
from loan_default.validation import DataValidationError, describe_examples

logger = logging.getLogger(__name__)

# Rows pandas reads to check the file; the delimiter diagnosis looks at as many lines.
SAMPLE_ROWS = 50
SAMPLE_BYTES = 1 << 20
# Read through a compressed file in pieces this size to prove it decompresses to the end.
INTEGRITY_CHUNK = 1 << 20
CANDIDATE_DELIMITERS = ",;\t|"
# File signatures: what a file that pandas fails to decompress really is. pandas infers the
# compression from the suffix only (pandas.io.common.infer_compression).
MAGIC_COMPRESSION = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}
# What pandas' decompressors raise on a damaged or mislabelled file (ValueError: a zip holding
# several files; RuntimeError: an encrypted zip).
DECOMPRESSION_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    tarfile.TarError,
)
# The read_csv arguments that decide how lines split into fields (the delimiter diagnosis).
QUOTING_ARGS = ("quotechar", "doublequote", "escapechar", "skipinitialspace", "quoting")
WHERE_CONFIGURED = "`raw_loans_file` in conf/<env>/globals.yml (or the `raw_loans` catalog entry)"
# An environment's catalog entry replaces base's whole entry, so the advice says to write it all.
CATALOG = (
    "conf/<env>/catalog.yml, as a complete entry: `raw_loans: {type: pandas.CSVDataset, "
    "filepath: ${globals:raw_loans_file}, load_args: {...}}` (docs/own-data.md)"
)


def inspect_raw_file(path: str | Path, load_args: dict[str, Any] | None = None) -> list[str]:
    """Read the first rows of the raw CSV with pandas and the catalog's `load_args`; return the
    column names pandas gives them, or raise a DataValidationError saying what to change."""
    path, load_args = Path(path), dict(load_args or {})
    _require_file(path)
    compression = _compression(path, load_args)
    if compression is None:
        _require_not_compressed(path)
    else:
        # pandas would fail only where the damage is, with the path buried in its traceback.
        require_intact(path, load_args.get("compression", "infer"))
    configured = load_args.get("sep", load_args.get("delimiter", ","))
    try:
        sample = _read(path, compression, load_args)
    except ParserError as error:
        _require_delimiter(path, load_args, configured)
        raise DataValidationError(
            f"{path}: the first lines cannot be read as CSV with sep {configured!r} "
            f"({_one_line(error)}): check `raw_loans.load_args` (sep, quotechar, escapechar) "
            f"in {CATALOG}."
        ) from error
    if sample.shape[1] == 1:  # one column: perhaps the file uses another delimiter
        _require_delimiter(path, load_args, configured)
    if sample.empty and load_args.get("header", "infer") is not None:
        raise DataValidationError(
            f"{path} has a header ({sample.shape[1]} columns) but no data rows: export the "
            f"table with its rows, or point {WHERE_CONFIGURED} at a file that has them."
        )
    return [str(column) for column in sample.columns]


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


def require_intact(path: str | Path, compression: Any = "infer") -> None:
    """Raise when a compressed file does not decompress to its end (truncated or corrupt)."""
    path = Path(path)
    method = _compression(path, {"compression": compression})
    if method is None:
        return
    try:
        with get_handle(path, "rb", compression=compression, is_text=False) as handles:
            while handles.handle.read(INTEGRITY_CHUNK):
                pass
    except DECOMPRESSION_ERRORS as error:
        raise DataValidationError(_unreadable(path, method, error)) from error
    except ImportError as error:  # zstd without the optional `zstandard` package
        raise DataValidationError(
            f"{path} is {method}-compressed but the package pandas needs to read it is not "
            f"installed ({_one_line(error)}): install it, or recompress the file as .csv.gz."
        ) from error


def _read(path: Path, compression: str | None, load_args: dict[str, Any]) -> pd.DataFrame:
    """The first SAMPLE_ROWS rows as the catalog reads them; pandas' typed exceptions other
    than a parser error (the caller's) become DataValidationErrors."""
    arguments = {**load_args, "nrows": SAMPLE_ROWS, "chunksize": None, "iterator": False}
    encoding = load_args.get("encoding") or "utf-8"
    try:
        return pd.read_csv(path, **arguments)
    except EmptyDataError as error:
        raise DataValidationError(_no_columns(path, compression, error)) from error
    except UnicodeDecodeError as error:
        raise DataValidationError(_encoding_message(path, load_args, error, encoding)) from error
    except LookupError as error:
        raise DataValidationError(
            f"{path}: `raw_loans.load_args.encoding: {encoding}` is not an encoding Python knows: "
            f"use e.g. utf-8, latin-1 or cp1252 in {CATALOG}."
        ) from error
    except PermissionError as error:
        raise DataValidationError(
            f"{path} cannot be read ({error}): check that the file is readable."
        ) from error


def _one_line(error: BaseException) -> str:
    """An exception's message on one line (pandas' messages may span several)."""
    return " ".join(str(error).split()) or type(error).__name__


def _unreadable(path: Path, compression: str, error: BaseException) -> str:
    """The message for a compressed file that pandas cannot decompress to its end."""
    if isinstance(error, PermissionError):
        return f"{path} cannot be read ({error}): check that the file is readable."
    if compression == "zip" and "files found in ZIP" in str(error):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        return (
            f"{path} holds {len(names)} files {describe_examples(names)}, but pandas reads a zip "
            "with exactly one file: zip the loan CSV on its own."
        )
    if _starts_as(path, compression):
        return (
            f"{path}: the {compression} file is truncated or corrupt ({_one_line(error)}): "
            "re-download it or compress it again; nothing was written."
        )
    return (
        f"{path} cannot be read as {compression} ({_one_line(error)}): check that it is a "
        f"complete {compression} file, or set `raw_loans.load_args.compression` to its real "
        f"compression (null for plain CSV) in {CATALOG}."
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
    """The compression pandas will use (pandas' own inference from the suffix)."""
    compression = load_args.get("compression", "infer")
    if isinstance(compression, dict):
        compression = compression.get("method")
    try:
        return infer_compression(str(path), compression)
    except ValueError as error:  # not a compression pandas knows
        known = re.search(r"\[(.*)\]", str(error))
        listed = known.group(1).replace("'", "").replace("None", "null") if known else "infer"
        raise DataValidationError(
            f"{path}: `raw_loans.load_args.compression: {compression}` is not a compression "
            f"pandas reads: use one of {listed} in {CATALOG}."
        ) from error


def _require_not_compressed(path: Path) -> None:
    """Raise when a file read as plain text starts like a compressed archive."""
    with path.open("rb") as raw:
        head = raw.read(8)
    method = next(
        (name for magic, name in MAGIC_COMPRESSION.items() if head.startswith(magic)), None
    )
    if method is None:
        return
    workbook = "; an Excel workbook (.xlsx) must be saved as CSV first" if method == "zip" else ""
    raise DataValidationError(
        f"{path} is {method}-compressed but is read as plain text: set "
        f"`raw_loans.load_args.compression: {method}` in {CATALOG}{workbook}."
    )


def _head(path: Path, load_args: dict[str, Any]) -> bytes:
    """The first decompressed bytes of the file, opened by pandas as read_csv opens it."""
    compression = load_args.get("compression", "infer")
    with get_handle(path, "rb", compression=compression, is_text=False) as handles:
        return handles.handle.read(SAMPLE_BYTES)


def _no_columns(path: Path, compression: str | None, error: EmptyDataError) -> str:
    """pandas found no columns: an empty file, a file of whitespace, or skipped lines."""
    data = _head(path, {"compression": compression})
    decompressed = f" once {compression}-decompressed" if compression else ""
    if not data:
        return (
            f"{path} is empty (0 bytes{decompressed}): export the loan table into it, or point "
            f"{WHERE_CONFIGURED} at the right file."
        )
    if not data.strip():
        return (
            f"{path} contains only whitespace ({len(data):,} bytes{decompressed}): export the "
            f"loan table into it, or point {WHERE_CONFIGURED} at the right file."
        )
    return (
        f"{path}: pandas finds no columns in it ({_one_line(error)}): check "
        f"`raw_loans.load_args` (skiprows, header, comment) in {CATALOG}."
    )


def _encoding_message(
    path: Path, load_args: dict[str, Any], error: UnicodeDecodeError, encoding: str
) -> str:
    """Where the file stops being valid in `encoding`, and the setting that fixes it."""
    data = _head(path, load_args)
    try:
        data.decode(encoding, errors=load_args.get("encoding_errors") or "strict")
        where = ""  # past the bytes looked at: pandas' own words
    except UnicodeDecodeError as located:
        line = data.count(b"\n", 0, located.start) + 1
        where = f"byte 0x{data[located.start]:02x} at offset {located.start:,} (line {line}) "
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    suggestion = "utf-16`" if utf16 else "latin-1` (or cp1252)"
    said = where or f"{_one_line(error)}: the text "
    return (
        f"{path}: {said}is not valid {encoding}, so the file uses another encoding: set "
        f"`raw_loans.load_args.encoding: {suggestion} in {CATALOG}."
    )


def _require_delimiter(path: Path, load_args: dict[str, Any], configured: Any) -> None:
    """Raise when another delimiter splits the first lines into more, equal-width rows than the
    configured one (a regular expression or pandas' own sniffing, sep null, is left alone)."""
    if not isinstance(configured, str) or len(configured) != 1:
        return
    text = _text(path, load_args)
    widths = _widths(text, configured, load_args)
    if not widths or (len(set(widths)) == 1 and widths[0] > 1):
        return
    for delimiter in CANDIDATE_DELIMITERS.replace(configured, ""):
        other = _widths(text, delimiter, load_args)
        if other and len(set(other)) == 1 and other[0] > max(widths[0], 1):
            raise DataValidationError(
                _delimiter_message(path, configured, widths, delimiter, other[0])
            )


def _text(path: Path, load_args: dict[str, Any]) -> str:
    """The first SAMPLE_ROWS lines of the file, decompressed by pandas, in its encoding."""
    encoding = load_args.get("encoding") or "utf-8-sig"
    errors = load_args.get("encoding_errors") or "strict"
    # Not final: the bytes may stop inside a multi-byte character.
    text = codecs.getincrementaldecoder(encoding)(errors).decode(_head(path, load_args))
    return "".join(text.splitlines(keepends=True)[:SAMPLE_ROWS])


def _widths(text: str, delimiter: str, load_args: dict[str, Any]) -> list[int]:
    """Fields per non-blank line split by `delimiter` with the catalog's quoting arguments;
    empty when the lines do not split."""
    quoting = {key: load_args[key] for key in QUOTING_ARGS if load_args.get(key) is not None}
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, **quoting)
        return [len(row) for row in reader if any(field.strip() for field in row)]
    except (csv.Error, TypeError):
        return []


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
    """Every column the dataset parameters need, by the keys that name it (`config.columns`); an
    optional text column may be empty."""
    return columns_by_key([ref for ref in column_references(dataset) if ref.required])


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

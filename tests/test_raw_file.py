"""The raw-file checks turn pandas' parser messages into plain words naming the file and the fix."""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import logging
import lzma
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loan_default.config_checks import check_dataset_config, check_header
from loan_default.raw_file import check_empty_columns, inspect_raw_file, require_intact
from loan_default.validation import ConfigurationError, DataValidationError

NAMING_BLOCKS = (
    "encoders",
    "categorical_orders",
    "monotonic_trends",
    "sentinel_codes",
    "informative_missing",
    "score_baselines",
    "derived_features",
)
HEADER = ["id", "loan_amnt", "term", "int_rate", "grade", "dti", "issue_d", "loan_status"]
ROWS = [
    ["1", "5000", "36", "0.11", "B", "12.5", "2011-01-01", "Fully Paid"],
    ["2", "7000", "60", "0.15", "C", "20.1", "2011-02-01", "Charged Off"],
    ["3", "3000", "36", "0.09", "A", "8.3", "2011-03-01", "Fully Paid"],
    ["4", "9000", "36", "0.13", "B", "15.0", "2011-04-01", "Fully Paid"],
]


def table(sep: str = ",", rows: list[list[str]] = ROWS) -> str:
    """The test table as CSV text with `sep` between fields."""
    return "".join(sep.join(row) + "\n" for row in [HEADER, *rows])


def write(path: Path, content: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to `path`, gzip-compressed when it ends in .gz."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def raw_error(path: Path, load_args: dict | None = None) -> str:
    """The message inspect_raw_file raises for `path`."""
    with pytest.raises(DataValidationError) as error:
        inspect_raw_file(path, load_args)
    message = str(error.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message


def test_missing_file_names_the_file_and_the_setting(tmp_path: Path):
    path = tmp_path / "01_raw" / "loans.csv.gz"
    message = raw_error(path)
    assert "does not exist" in message
    assert "`raw_loans_file` in conf/<env>/globals.yml" in message
    assert "`raw_loans` catalog entry" in message


def test_folder_instead_of_file(tmp_path: Path):
    assert "is a folder, not a file" in raw_error(tmp_path)


@pytest.mark.parametrize("name", ["loans.csv", "loans.csv.gz"])
def test_empty_file(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_bytes(b"")
    message = raw_error(path)
    assert "is empty (0 bytes" in message
    assert "raw_loans_file" in message


def test_whitespace_only_file(tmp_path: Path):
    message = raw_error(write(tmp_path / "loans.csv", "  \n\n\t \r\n"))
    assert "contains only whitespace" in message
    assert "No columns to parse" not in message


@pytest.mark.parametrize("name", ["loans.csv", "loans.csv.gz"])
def test_header_without_rows(tmp_path: Path, name: str):
    path = write(tmp_path / name, table(rows=[]) + "\n \n")
    message = raw_error(path)
    assert f"has a header ({len(HEADER)} columns) but no data rows" in message


def test_semicolon_file_read_with_the_default_comma(tmp_path: Path):
    path = write(tmp_path / "loans.csv", table(sep=";"))
    message = raw_error(path)
    assert "looks `;`-separated" in message
    assert f"({len(HEADER)} columns with `;`, 1 with `,`)" in message
    assert "set `raw_loans.load_args.sep: ';'`" in message


def test_semicolon_file_with_decimal_commas(tmp_path: Path):
    # Decimal commas give the comma reading a different field count on each line.
    rows = [[field.replace(".", ",") for field in row] for row in ROWS]
    path = write(tmp_path / "loans.csv", table(sep=";", rows=rows))
    message = raw_error(path)
    assert "looks `;`-separated" in message
    assert "per line with `,`" in message
    assert "raw_loans.load_args.sep" in message


def test_tab_separated_file(tmp_path: Path):
    message = raw_error(write(tmp_path / "loans.csv.gz", table(sep="\t")))
    assert "looks tab-separated" in message
    assert 'raw_loans.load_args.sep: "\\t"' in message


def test_latin1_file_read_as_utf8(tmp_path: Path):
    path = tmp_path / "loans.csv"
    path.write_bytes("id,borrower\n1,Renée\n2,José\n".encode("latin-1"))
    message = raw_error(path)
    assert "byte 0xe9" in message
    assert "(line 2)" in message
    assert "utf-8" in message
    assert "raw_loans.load_args.encoding: latin-1" in message
    assert inspect_raw_file(path, {"encoding": "latin-1"}) == ["id", "borrower"]


@pytest.mark.parametrize("name", ["loans.csv", "loans.csv.gz"])
def test_good_file_returns_the_header(tmp_path: Path, name: str):
    path = write(tmp_path / name, table())
    assert inspect_raw_file(path, {"compression": "infer", "low_memory": False}) == HEADER


def test_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path):
    path = tmp_path / "loans.csv"
    path.write_bytes(table().encode("utf-8-sig"))
    columns = inspect_raw_file(path)
    assert columns[0] == "id"
    assert columns == pd.read_csv(path).columns.tolist()


def test_header_names_match_pandas(tmp_path: Path):
    path = write(tmp_path / "loans.csv", 'a,,a,"b,c",a.1,a\n1,2,3,4,5,6\n')
    assert inspect_raw_file(path) == pd.read_csv(path).columns.tolist()


def test_semicolon_file_with_the_configured_separator(tmp_path: Path):
    path = write(tmp_path / "loans.csv", table(sep=";"))
    assert inspect_raw_file(path, {"sep": ";"}) == HEADER


def test_comma_file_whose_text_contains_semicolons(tmp_path: Path):
    rows = [[*row[:-1], "Paid; on time"] for row in ROWS]
    path = write(tmp_path / "loans.csv", table(rows=rows))
    assert inspect_raw_file(path) == HEADER


def test_single_column_file_is_not_a_delimiter_problem(tmp_path: Path):
    path = write(tmp_path / "ids.csv", "id\n1\n2\n3\n")
    assert inspect_raw_file(path) == ["id"]


@functools.cache
def large_table() -> bytes:
    """About 400 KB of CSV: six times what the header inspection samples."""
    values = np.random.default_rng(0).integers(1000, 40000, (8_000, 3)).astype(str)
    return table(rows=[[str(i), *row, *ROWS[0][4:]] for i, row in enumerate(values)]).encode()


@functools.cache
def compressed(method: str, data: bytes) -> bytes:
    """`data` compressed as a file of `method` would be (zip: one member)."""
    if method == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("loans.csv", data)
        return buffer.getvalue()
    return {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[method](data)


def truncated(data: bytes) -> bytes:
    """The first 60% of the bytes, as an interrupted download leaves them."""
    return data[: len(data) * 6 // 10]


def flipped(data: bytes) -> bytes:
    """64 bytes in the middle inverted, as a bad disk or transfer leaves them."""
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :]


def test_a_large_intact_gzip_is_read_through(tmp_path: Path):
    path = tmp_path / "loans.csv.gz"
    path.write_bytes(compressed("gz", large_table()))
    assert inspect_raw_file(path) == HEADER


@pytest.mark.parametrize("method", ["gz", "bz2", "xz", "zip"])
@pytest.mark.parametrize("damage", [truncated, flipped])
def test_a_damaged_compressed_file_is_named_wherever_the_damage_is(tmp_path, method, damage):
    data = compressed(method, large_table())
    path = tmp_path / f"loans.csv.{method}"
    path.write_bytes(damage(data))
    message = raw_error(path, {"compression": "infer", "low_memory": False})
    kind = {"gz": "gzip"}.get(method, method)
    assert f": the {kind} file is truncated or corrupt (" in message
    assert message.endswith("re-download it or compress it again; nothing was written.")


def test_pandas_alone_fails_late_with_the_path_buried(tmp_path: Path):
    """What the check saves the user from: the damage is past the lines sampled."""
    path = tmp_path / "loans.csv.gz"
    path.write_bytes(truncated(compressed("gz", large_table())))
    with pytest.raises(EOFError, match="Compressed file ended"):
        pd.read_csv(path)


def test_damage_within_the_first_lines_is_named_too(tmp_path: Path):
    path = tmp_path / "loans.csv.gz"
    path.write_bytes(compressed("gz", large_table())[:200])
    assert "the gzip file is truncated or corrupt" in raw_error(path)


def test_require_intact_leaves_plain_files_alone(tmp_path: Path):
    path = write(tmp_path / "loans.csv", table())
    require_intact(path)
    truncated_gzip = tmp_path / "loans.csv.gz"
    truncated_gzip.write_bytes(truncated(compressed("gz", large_table())))
    with pytest.raises(DataValidationError, match="truncated or corrupt"):
        require_intact(truncated_gzip)


def test_plain_file_with_a_gz_name(tmp_path: Path):
    path = tmp_path / "loans.csv.gz"
    path.write_text(table())
    message = raw_error(path)
    assert "cannot be read as gzip" in message
    assert "raw_loans.load_args.compression" in message
    assert inspect_raw_file(path, {"compression": None}) == HEADER


def test_gzip_file_read_as_plain_text(tmp_path: Path):
    path = tmp_path / "loans.csv"
    path.write_bytes(gzip.compress(table().encode()))
    assert "raw_loans.load_args.compression: gzip" in raw_error(path)
    assert inspect_raw_file(path, {"compression": "gzip"}) == HEADER


def test_zip_with_several_files(tmp_path: Path):
    path = tmp_path / "loans.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("loans.csv", table())
        archive.writestr("notes.txt", "read me")
    assert "holds 2 files" in raw_error(path)


def test_zip_with_one_file(tmp_path: Path):
    path = tmp_path / "loans.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("loans.csv", table())
    assert inspect_raw_file(path) == HEADER


@pytest.fixture
def dataset(dataset_params: dict) -> dict:
    """The real dataset block, its column-naming keys narrowed to the test table's columns."""
    dataset = dataset_params.plain()  # a mapping the fixture edits
    for key in NAMING_BLOCKS:
        dataset[key] = {}
    rule = next(iter(dataset_params["baseline_rules"].values()))
    dataset["baseline_rules"] = {"reject_dti": {**rule, "column": "dti"}}
    dataset["costs"] = {**dataset_params["costs"], "amount_column": "loan_amnt"}
    dataset["target"] = {**dataset_params["target"], "column": "loan_status"}
    dataset["date_column"] = "issue_d"
    dataset["column_types"] = {"dti": "numeric", "loan_amnt": "numeric", "purpose": "category"}
    return dataset


def loans(**columns: list) -> pd.DataFrame:
    """Three loans with the configured columns filled, plus `columns`."""
    base = {
        "loan_amnt": [5000, 7000, 3000],
        "dti": [12.5, 20.1, 8.3],
        "purpose": ["car", "house", "car"],
        "issue_d": ["2011-01-01", "2011-02-01", "2011-03-01"],
        "loan_status": ["Fully Paid", "Charged Off", "Fully Paid"],
    }
    return pd.DataFrame(base | columns)


def test_configured_empty_column_names_every_key(dataset: dict):
    with pytest.raises(DataValidationError) as error:
        check_empty_columns(loans(dti=[np.nan] * 3), dataset, "data/01_raw/x.csv")
    assert str(error.value) == (
        "data/01_raw/x.csv: column 'dti' is empty in all 3 rows, but "
        "dataset.bounds, dataset.baseline_rules.reject_dti.column, dataset.column_types use it: "
        "fill it or remove it from those keys."
    )


def test_blank_strings_count_as_empty(dataset: dict):
    with pytest.raises(DataValidationError, match=r"'purpose'.*'loan_status'") as error:
        check_empty_columns(
            loans(purpose=["", "  ", None], loan_status=[None, " ", ""]), dataset, "x.csv"
        )
    assert "dataset.target.column" in str(error.value)
    assert "columns 'purpose', 'loan_status' are empty in all 3 rows" in str(error.value)


def test_unused_empty_column_only_warns(dataset: dict, caplog: pytest.LogCaptureFixture):
    raw = loans(notes=[np.nan] * 3, zeros=[0, 0, 0])
    with caplog.at_level(logging.WARNING, logger="loan_default.raw_file"):
        assert check_empty_columns(raw, dataset, "data/01_raw/x.csv") == ["notes"]
    assert "data/01_raw/x.csv" in caplog.text
    assert "'notes'" in caplog.text
    assert "zeros" not in caplog.text


def test_full_table_has_no_empty_columns(dataset: dict, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="loan_default.raw_file"):
        assert check_empty_columns(loans(), dataset, "x.csv") == []
        assert check_empty_columns(loans().iloc[0:0], dataset, "x.csv") == []
    assert caplog.text == ""


def test_an_empty_text_column_is_an_error_naming_text_columns_and_the_way_out(dataset: dict):
    with pytest.raises(DataValidationError) as error:
        check_empty_columns(loans(desc=[None, " ", ""]), dataset, "data/01_raw/x.csv")
    assert str(error.value) == (
        "data/01_raw/x.csv: column 'desc' is empty in all 3 rows, but dataset.text_columns uses "
        "it: fill it or remove it from those keys, or list it in "
        "dataset.optional_text_columns."
    )


def test_an_empty_optional_text_column_only_warns_that_it_is_not_used(
    dataset: dict, caplog: pytest.LogCaptureFixture
):
    dataset = {**dataset, "optional_text_columns": ["desc"]}
    with caplog.at_level(logging.WARNING, logger="loan_default.raw_file"):
        assert check_empty_columns(loans(desc=[None] * 3), dataset, "x.csv") == ["desc"]
    assert "x.csv: text column(s) ['desc'] are empty in all 3 rows" in caplog.text
    assert "dataset.optional_text_columns allows it" in caplog.text
    assert "no dataset parameter uses them" not in caplog.text


def test_a_text_column_missing_from_the_header_is_named_unless_optional(dataset: dict):
    header = [*loans().columns, "addr_state", "zip_code", "title", "emp_title"]
    with pytest.raises(ConfigurationError, match=r"dataset\.text_columns: 'desc'"):
        check_header(header, dataset, "x.csv")
    check_header(header, {**dataset, "optional_text_columns": ["desc"]}, "x.csv")


def test_an_absent_optional_text_column_is_a_warning(dataset, caplog):
    raw = loans(addr_state=["CA"] * 3, zip_code=["940xx"] * 3, title=["a"] * 3, emp_title=["b"] * 3)
    with caplog.at_level(logging.WARNING, logger="loan_default.config_checks"):
        check_dataset_config(raw, {**dataset, "optional_text_columns": ["desc"]}, "x.csv")
    assert "x.csv: optional text column(s) ['desc'] are not in the file" in caplog.text


def test_the_columns_are_those_pandas_reads_with_the_catalog_load_args(tmp_path: Path):
    path = write(tmp_path / "loans.csv.gz", table())
    assert inspect_raw_file(path, {"usecols": ["id", "grade"]}) == ["id", "grade"]
    assert inspect_raw_file(path, {"header": None}) == [str(i) for i in range(len(HEADER))]
    assert inspect_raw_file(path, {"compression": {"method": "gzip"}}) == HEADER


def test_a_tar_gz_is_read_by_pandas_own_suffix_inference(tmp_path: Path):
    source = write(tmp_path / "loans.csv", table())
    path = tmp_path / "loans.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(source, arcname="loans.csv")
    assert inspect_raw_file(path) == HEADER


def test_an_unknown_compression_names_the_setting_and_the_known_ones(tmp_path: Path):
    path = write(tmp_path / "loans.csv", table())
    message = raw_error(path, {"compression": "rar"})
    assert "`raw_loans.load_args.compression: rar` is not a compression pandas reads" in message
    assert "gzip" in message and "zip" in message

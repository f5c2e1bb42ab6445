"""A self-contained HTML report of one run, generated from the run's own numbers and plots.

The page is a list of sections, each a title and its HTML (`page`). Tables go through `table`:
human column headers, rounded numbers, "n/a" for a missing value with the reason underneath,
and a frame that scrolls inside itself when it is wider than the page.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
from markdown_it import MarkdownIt

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1180px;margin:1.5rem auto;
padding:0 1rem;color:#1f2328;line-height:1.5}
h1{border-bottom:2px solid #d0d7de;padding-bottom:.3rem;margin-bottom:.5rem}
h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de}
nav{font-size:.85rem;color:#57606a}nav a{color:#0969da;text-decoration:none;margin-right:.9rem;white-space:nowrap}
.scroll{overflow-x:auto;max-width:100%;margin:1rem 0}
table{border-collapse:collapse;font-size:.85rem}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;
text-align:right}th{background:#f6f8fa;vertical-align:bottom}td:first-child,th:first-child{text-align:left}
td.text{text-align:left}td{white-space:nowrap}td.text{white-space:normal;min-width:6rem}
.note{font-size:.8rem;color:#57606a;margin-top:-.6rem}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #d0d7de}figcaption{font-size:.85rem;color:#57606a}
.kpi{display:flex;gap:.8rem;flex-wrap:wrap;margin:1rem 0}.kpi div{border:1px solid #d0d7de;border-radius:6px;
padding:.5rem .9rem;max-width:20rem}.kpi b{display:block;font-size:1.3rem;overflow-wrap:anywhere}.kpi small{display:block;color:#57606a}
.flag{color:#9a6700}
"""

# Words a header spells differently from its column name (the rest: underscores to spaces).
WORDS = {
    "roc": "ROC", "auc": "AUC", "pr": "PR", "ks": "KS", "psi": "PSI", "iv": "IV", "woe": "WoE",
    "pd": "PD", "cv": "CV", "js": "JS", "gini": "Gini", "std": "spread (std)", "n": "number of",
    "p": "p", "lgd": "LGD",
}  # fmt: skip
HEADERS = {"p_value": "p-value", "n_bins": "bins", "kind": "kind", "psi_band": "PSI band"}
MISSING = "n/a"


def header(column: Any) -> str:
    """A column name as a reader says it: `cv_roc_auc_mean` -> `CV ROC AUC mean`."""
    name = str(column)
    if name in HEADERS:
        text = HEADERS[name]
    else:
        text = " ".join(WORDS.get(word.lower(), word) for word in re.split(r"[_\s]+", name) if word)
    return text[:1].upper() + text[1:]


def table(
    frame: pd.DataFrame,
    digits: int = 3,
    why_missing: str | Mapping[str, str] = "no value for this row",
    percent: tuple[str, ...] = (),
) -> str:
    """An HTML table with human headers and rounded numbers, in a frame that scrolls sideways.

    A missing value shows as "n/a" and the note under the table says why (`why_missing`: one
    reason, or one per column). Columns in `percent` are shares shown as percentages.
    """
    missing_in: list[str] = []
    head = "".join(f"<th>{html.escape(header(column))}</th>" for column in frame.columns)
    cells = []
    for column in frame.columns:
        values = frame[column]
        absent = values.isna() | values.map(lambda value: value is None)
        if absent.any():
            missing_in.append(str(column))
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        kind = "" if numeric else ' class="text"'
        cells.append(
            [
                f"<td{kind}>"
                + (MISSING if gone else html.escape(_cell(value, digits, column in percent)))
                + "</td>"
                for value, gone in zip(values, absent, strict=True)
            ]
        )
    rows = "".join(f"<tr>{''.join(row)}</tr>" for row in zip(*cells, strict=True))
    body = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    note = ""
    if missing_in:
        if isinstance(why_missing, str):
            reasons = [why_missing]
        else:
            reasons = [
                f"{header(column)}: {why_missing.get(column, 'no value for this row')}"
                for column in missing_in
            ]
        note = f'<p class="note">{MISSING}: ' + html.escape("; ".join(reasons)) + ".</p>"
    return f'<div class="scroll">{body}</div>{note}'


def _cell(value: Any, digits: int, as_percent: bool) -> str:
    if pd.api.types.is_bool(value):
        return "yes" if value else "no"
    if pd.api.types.is_integer(value):
        return f"{int(value):,}"
    if pd.api.types.is_float(value):
        if as_percent:
            return f"{value:.1%}"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.{digits}f}"
    return str(value)


def figure(image: Any, caption: str) -> str:
    """Embed a PIL image (or PNG bytes) as a base64 <img>."""
    if hasattr(image, "save"):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        image = buffer.getvalue()
    encoded = base64.b64encode(image).decode("ascii")
    alt = html.escape(caption)
    return (
        f'<figure><img alt="{alt}" src="data:image/png;base64,{encoded}">'
        f"<figcaption>{alt}</figcaption></figure>"
    )


def kpis(values: dict[str, str], notes: Mapping[str, str] | None = None) -> str:
    """A row of headline figures, each with an optional small note under its label."""
    notes = notes or {}
    cells = "".join(
        f"<div><b>{html.escape(v)}</b>{html.escape(k)}"
        + (f"<small>{html.escape(notes[k])}</small>" if k in notes else "")
        + "</div>"
        for k, v in values.items()
    )
    return f'<div class="kpi">{cells}</div>'


def markdown(text: str, drop_title: bool = False) -> str:
    """Render a generated Markdown finding; `drop_title` leaves out its first-level heading
    (the report's section already carries it)."""
    if drop_title:
        text = re.sub(r"\A\s*# [^\n]*\n", "", text)
        # Its own sections sit under the report's section heading: one level down.
        text = re.sub(r"^(#{1,5}) ", r"#\1 ", text, flags=re.MULTILINE)
    body = MarkdownIt("commonmark").enable("table").render(text)
    return body.replace("<table>", '<div class="scroll"><table>').replace(
        "</table>", "</table></div>"
    )


def anchor(title: str) -> str:
    """The id of a section, from its title."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def page(title: str, sections: list[tuple[str, str]]) -> str:
    """Assemble the sections (title, HTML) into one HTML document with a list of contents."""
    contents = " ".join(
        f'<a href="#{anchor(name)}">{html.escape(name)}</a>' for name, _ in sections
    )
    body = "".join(
        f'<section id="{anchor(name)}"><h2>{html.escape(name)}</h2>{content}</section>'
        for name, content in sections
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><nav>{contents}</nav>{body}</body></html>"
    )

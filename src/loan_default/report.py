"""A self-contained HTML report of one run, generated from the run's own numbers and plots."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import pandas as pd
from markdown_it import MarkdownIt

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2rem auto;
padding:0 1rem;color:#1f2328;line-height:1.5}
h1{border-bottom:2px solid #d0d7de;padding-bottom:.3rem}h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;
text-align:right}th{background:#f6f8fa}td:first-child,th:first-child,td:last-child{text-align:left}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #d0d7de}figcaption{font-size:.85rem;color:#57606a}
.kpi{display:flex;gap:1rem;flex-wrap:wrap}.kpi div{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem}
.kpi b{display:block;font-size:1.4rem}
"""


def table(frame: pd.DataFrame, digits: int = 3) -> str:
    """An HTML table with rounded numbers."""
    return frame.to_html(index=False, float_format=lambda value: f"{value:,.{digits}f}", border=0)


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


def kpis(values: dict[str, str]) -> str:
    """A row of headline figures."""
    cells = "".join(
        f"<div><b>{html.escape(v)}</b>{html.escape(k)}</div>" for k, v in values.items()
    )
    return f'<div class="kpi">{cells}</div>'


def markdown(text: str) -> str:
    """Render the generated Markdown finding."""
    return MarkdownIt("commonmark").enable("table").render(text)


def page(title: str, sections: list[tuple[str, str]]) -> str:
    """Assemble the sections into one HTML document."""
    body = "".join(
        f"<section><h2>{html.escape(name)}</h2>{content}</section>" for name, content in sections
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )

"""The HTML report of a real run opens in a browser and shows its figures."""

from __future__ import annotations

import json

import pytest

from tests.browser import inspect_page

pytestmark = pytest.mark.slow
SECTIONS = [
    "Executive summary",
    "Limitations",
    "Gains and lift by score decile",
    "What drives the champion's scores",
    "Score stability by quarter (PSI)",
    "Data and split",
    "Missing values",
    "Predictive power (IV) and stability (PSI)",
    "Baselines, models and imbalance strategies",
    "The champion",
    "Model finding",
    "Fair lending",
]
IMAGE_WIDTHS = "Array.from(document.images).map(image => image.naturalWidth)"


def test_report_opens_and_shows_its_figures(trained_project):
    project, _ = trained_project
    report = project / "data" / "08_reporting" / "loan_report.html"
    text, widths = inspect_page(report.as_uri(), SECTIONS, "loan_report", script=IMAGE_WIDTHS)
    assert len(widths) == 8 and all(width > 100 for width in widths), widths
    champion = json.loads((project / "data/08_reporting/champion.json").read_text())
    assert champion["configuration"] in text
    assert "out-of-time test set: ROC AUC" in text
    assert "baseline/approve_everyone" in text


def test_report_fits_a_1280_px_screen_without_repeated_headings(trained_project):
    project, _ = trained_project
    report = project / "data" / "08_reporting" / "loan_report.html"
    script = (
        "[document.documentElement.scrollWidth,"
        " Array.from(document.querySelectorAll('h1,h2')).map(h => h.textContent),"
        " Array.from(document.querySelectorAll('td')).map(c => c.textContent.trim()),"
        " Array.from(document.querySelectorAll('th')).map(c => c.textContent.trim())]"
    )
    _, (width, headings, cells, headers) = inspect_page(
        report.as_uri(), ["Executive summary"], "report_1280", script=script, width=1280
    )
    assert width <= 1280, "a wide table scrolls inside its own frame"
    assert len(headings) == len(set(headings)), headings
    assert not set(cells) & {"nan", "NaN", "None", "<NA>", "NaT", ""}, "missing values read n/a"
    assert not [header for header in headers if "_" in header], "headers are words"

"""The HTML report of a real run opens in a browser and shows its figures."""

from __future__ import annotations

import json

import pytest

from tests.browser import inspect_page

pytestmark = pytest.mark.slow
SECTIONS = [
    "Data and split",
    "Missing values",
    "Predictive power (IV) and stability (PSI)",
    "Baselines, models and imbalance strategies",
    "The champion",
    "Written finding",
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

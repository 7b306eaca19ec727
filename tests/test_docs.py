"""Checks of the built documentation site (docs/_build/html).

These tests read the site that ``sphinx-build -W --keep-going -b html docs docs/_build/html``
wrote; they never build it. They are skipped while the site does not exist, so the default
``pytest`` run neither builds nor needs it (CI builds the site first, then runs this file).
Set POC_DOCS_SITE to check a site built elsewhere.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("POC_DOCS_SITE", ROOT / "docs" / "_build" / "html"))
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))

pytestmark = pytest.mark.skipif(not (SITE / "index.html").is_file(),
                                reason=f"documentation site not built ({SITE})")

# Modules whose __all__ the API reference must cover (the top level ``poc`` is added below).
API_MODULES = ["poc.noise", "poc.drifts", "poc.particles", "poc.limits", "poc.transport",
               "poc.stable", "poc.rates", "poc.probability", "poc.euler", "poc.studies",
               "poc.compress", "poc.training", "poc.experiments", "poc.data", "poc.plotting",
               "poc.report", "poc.checks", "poc.cli", "poc.units", "poc.cache", "poc.exceptions"]

# Anchors that docstrings and other pages cite (the conventions of the theory page).
THEORY_ANCHORS = ["theory-chain", "theory-network", "theory-euler", "theory-chaos",
                  "theory-compress", "theory-theorem", "theory-experiments", "measurements",
                  "conventions",
                  "conv-stable-law", "conv-noise-kinds", "conv-euler-scheme", "conv-crn",
                  "conv-seeds", "conv-errors", "conv-results-format", "conv-exit-codes"]


class _Refs(HTMLParser):
    """Collects script sources, stylesheet and preload links, images and element ids."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.images: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        elif tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower()
            if "stylesheet" in rel or "preload" in rel or "modulepreload" in rel:
                self.styles.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.images.append(a["src"])


def _parse(path: Path) -> _Refs:
    p = _Refs()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _external(url: str) -> bool:
    return bool(re.match(r"^([a-z][a-z0-9+.-]*:)?//", url, re.I)) or url.startswith(
        ("http:", "https:"))


def test_index_and_theory_exist():
    assert (SITE / "index.html").is_file()
    theory = SITE / "theory.html"
    assert theory.is_file()
    ids = _parse(theory).ids
    missing = [a for a in THEORY_ANCHORS if a not in ids]
    assert not missing, f"theory.html lacks the anchors {missing}"


def test_user_guide_and_changelog_exist():
    for page in ("user_guide/index.html", "changelog.html", "api.html",
                 "user_guide/validate.html", "user_guide/drifts.html",
                 "user_guide/studies.html", "user_guide/calibration.html",
                 "user_guide/experiments.html"):
        assert (SITE / page).is_file(), page


def test_no_planned_stubs_left():
    # the pages of features that have landed must document them, not announce them
    stubs = [p.name for p in sorted((SITE / "user_guide").glob("*.html"))
             if re.search(r"(Planned|Not in this version)", p.read_text(encoding="utf-8"))]
    assert not stubs, f"pages still announcing planned features: {stubs}"


def test_docstrings_cite_the_site_not_design_md():
    # users never see DESIGN.md; docstrings cite the documentation pages instead
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((ROOT / "poc").rglob("*.py"))
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if "DESIGN.md" in line]
    assert not hits, hits


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_gallery_page_with_figure_and_downloads(example):
    page = SITE / "auto_examples" / f"{example.stem}.html"
    assert page.is_file(), f"no gallery page for {example.name}"
    refs = _parse(page)
    figs = [s for s in refs.images if f"sphx_glr_{example.stem}_" in s and "thumb" not in s]
    assert figs, f"{page.name} shows no figure of its own"
    for src in figs:
        assert (page.parent / src).resolve().is_file(), f"{page.name}: missing image {src}"
    downloads = {p.name for p in (SITE / "_downloads").rglob(f"{example.stem}.*")}
    assert {f"{example.stem}.py", f"{example.stem}.ipynb"} <= downloads, downloads


def test_animation_is_an_animated_gif():
    gifs = sorted((SITE / "_images").glob("sphx_glr_plot_11_animation_mckean_vlasov_*.gif"))
    assert gifs, "the animation example has no GIF"
    from PIL import Image

    with Image.open(gifs[0]) as im:
        assert getattr(im, "n_frames", 1) > 10  # a real animation, not a still


def _api_names() -> list[str]:
    poc = importlib.import_module("poc")
    names = [f"poc.{n}" for n in poc.__all__
             if n != "__version__" and not inspect.ismodule(getattr(poc, n))]
    top = {n.split(".", 1)[1] for n in names}
    for m in API_MODULES:
        mod = importlib.import_module(m)
        names += [f"{m}.{n}" for n in mod.__all__ if n not in top]
    return names


def test_api_pages_cover_every_public_name():
    missing = [n for n in _api_names() if not (SITE / "generated" / f"{n}.html").is_file()]
    assert not missing, f"no API page for {missing} (add them to docs/api.rst)"


def test_no_external_scripts_or_stylesheets():
    # _static/ holds the theme's template fragments, not pages
    pages = sorted(p for p in SITE.rglob("*.html") if "_static" not in p.relative_to(SITE).parts)
    assert len(pages) > 20
    bad = []
    for page in pages:
        refs = _parse(page)
        bad += [f"{page.relative_to(SITE)}: {u}" for u in refs.scripts + refs.styles + refs.images
                if _external(u)]
        for u in refs.scripts + refs.styles:
            target = (page.parent / u.split("?", 1)[0]).resolve()
            if not _external(u) and not target.is_file():
                bad.append(f"{page.relative_to(SITE)}: missing local asset {u}")
    assert not bad, "\n".join(bad[:20])


def test_mathjax_is_served_from_the_site():
    refs = _parse(SITE / "theory.html")
    mj = [s for s in refs.scripts if "mathjax" in s.lower()]
    assert mj, "theory.html loads no MathJax script"
    assert all(not _external(s) for s in mj), mj
    assert (SITE / "_static" / "mathjax" / "tex-chtml.js").is_file()

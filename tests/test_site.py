"""The README and the docs site: every page in the navigation, every relative link to a file
that exists (as GitHub and a checkout read them), the README short, licence and citation
present. CI builds the site itself strictly (``mkdocs build --strict`` in .ci/run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_site" not in p.parts)


def _nav_pages(entry) -> list:
    if isinstance(entry, str):
        return [entry]
    if isinstance(entry, list):
        return [p for item in entry for p in _nav_pages(item)]
    return [p for value in entry.values() for p in _nav_pages(value)]


def test_the_navigation_reaches_every_page():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    nav = _nav_pages(config["nav"])
    pages = {str(p.relative_to(DOCS)) for p in PAGES}
    assert set(nav) - {"index.md"} == pages  # index.md: the README, added by the site's hook
    assert not (DOCS / "index.md").exists()


@pytest.mark.parametrize(
    "page", [ROOT / "README.md", *PAGES], ids=lambda p: str(p.relative_to(ROOT))
)
def test_relative_links_point_at_files(page):
    text = FENCE.sub("", page.read_text())
    for target in LINK.findall(text):
        if re.match(r"^([a-z]+:|#)", target):
            continue
        path = (page.parent / target.partition("#")[0]).resolve()
        assert path.exists(), f"{page.relative_to(ROOT)} links to {target}, which is missing"


def test_readme_is_an_introduction():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 160
    headings = re.findall(r"^## (.+)$", readme, re.M)
    assert headings == [
        "Results at a glance",
        "Install",
        "Quickstart",
        "Python API",
        "Reproducing the results",
        "Where next",
        "Citation",
        "Licence",
    ]
    assert "](docs/figures/method.svg)" in readme


def test_licence_and_citation():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "license = MIT" in (ROOT / "setup.cfg").read_text()
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "MIT"
    paper = citation["preferred-citation"]
    assert "arXiv:2510.19223" in paper["journal"]
    assert [a["family-names"] for a in paper["authors"]] == [
        "Agbaje",
        "Mitra",
        "Anjum",
        "Khose",
        "Nwafor",
        "Olufowobi",
    ]


def test_the_sites_hook_rewrites_links(tmp_path, caplog):
    """Links into docs/ become the site's pages; a link to another file of the repository
    becomes its text once the file is found; a missing file is a warning (a strict build's
    failure)."""
    pytest.importorskip("mkdocs")
    import importlib.util

    spec = importlib.util.spec_from_file_location("hooks", DOCS / "_site" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    text = (
        "[method](docs/method.md#notation) and [`setup.cfg`](setup.cfg), "
        "![f](docs/figures/method.svg) [gone](nothing.txt)\n```\n[x](kept.md)\n```\n"
        "![g](benchmarks/results/fair/accuracy.png)"
    )
    out = hooks._rewrite(text, ROOT, DOCS, DOCS, ROOT, "README.md")
    assert out.startswith(
        "[method](method.md#notation) and `setup.cfg`, "
        "![f](figures/method.svg) gone\n```\n[x](kept.md)\n```"
    )
    # an image outside docs/: shown from the site's copy, which on_files adds
    assert out.endswith("![g](repository/benchmarks/results/fair/accuracy.png)")
    assert hooks._images(text, ROOT, DOCS, ROOT) == {ROOT / "benchmarks/results/fair/accuracy.png"}
    assert "README.md links to nothing.txt" in caplog.text

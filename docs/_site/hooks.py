"""MkDocs hooks of the docs site (mkdocs.yml loads them).

* The home page is README.md, so that the README and the site's first page are one text: its
  links into ``docs/`` are rewritten to the site's pages.
* A page's link to a file of the repository outside ``docs/`` (a benchmark script, a result
  folder, LICENSE) reads well on GitHub and in a checkout but has no page on the site: there it
  becomes the link's text, after checking that the file exists (a missing one is a warning,
  which fails ``mkdocs build --strict``, like a broken link between pages).
* An image a page shows from outside ``docs/`` (a result folder's figure) is copied into the
  site, under ``repository/`` and its path in the repository, and shown from there.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from mkdocs.structure.files import File

LOG = logging.getLogger("mkdocs.plugins.mutualgnn.hooks")
LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
#: where the site keeps the repository's images that its pages show
REPOSITORY = "repository"


def _rewrite(
    markdown: str, source_dir: Path, page_dir: Path, docs_dir: Path, root: Path, where: str
) -> str:
    """Rewrite the relative links of ``markdown`` (written in ``source_dir``) for a page that
    lives in ``page_dir`` of the site: into ``docs_dir``, relative to ``page_dir``; elsewhere in
    the repository, the link's text (the file checked)."""

    def link(match):
        bang, text, target = match.groups()
        if re.match(r"^([a-z]+:|#|/)", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = Path(os.path.normpath(source_dir / path))
        if resolved == docs_dir or docs_dir in resolved.parents:
            new = os.path.relpath(resolved, page_dir) + (f"#{anchor}" if anchor else "")
            return f"{bang}[{text}]({new})"
        if not resolved.exists() or root not in (resolved, *resolved.parents):
            LOG.warning("%s links to %s, which does not exist in the repository", where, target)
        elif bang and resolved.is_file():  # an image: the site's copy (on_files adds it)
            copy = docs_dir / REPOSITORY / resolved.relative_to(root)
            return f"![{text}]({os.path.relpath(copy, page_dir)})"
        return text

    parts, last = [], 0
    for fence in FENCE.finditer(markdown):  # leave code blocks alone
        parts += [LINK.sub(link, markdown[last : fence.start()]), fence.group(0)]
        last = fence.end()
    return "".join(parts + [LINK.sub(link, markdown[last:])])


def _images(markdown: str, source_dir: Path, docs_dir: Path, root: Path) -> set:
    """The files of the repository outside ``docs_dir`` that ``markdown`` shows as images."""
    found = set()
    for bang, _, target in LINK.findall(FENCE.sub("", markdown)):
        if bang and not re.match(r"^([a-z]+:|#|/)", target):
            path = Path(os.path.normpath(source_dir / target.partition("#")[0]))
            if path.is_file() and root in path.parents and docs_dir not in path.parents:
                found.add(path)
    return found


def on_files(files, config):
    docs_dir = Path(config["docs_dir"])
    root = docs_dir.parent
    readme = (root / "README.md").read_text()
    images = _images(readme, root, docs_dir, root)
    for page in files.documentation_pages():
        source = Path(page.abs_src_path)
        images |= _images(source.read_text(), source.parent, docs_dir, root)
    for image in sorted(images):
        files.append(
            File.generated(
                config,
                f"{REPOSITORY}/{image.relative_to(root).as_posix()}",
                abs_src_path=str(image),
            )
        )
    files.append(
        File.generated(
            config,
            "index.md",
            content=_rewrite(readme, root, docs_dir, docs_dir, root, "README.md"),
        )
    )
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri == "index.md":  # the README, rewritten in on_files
        return markdown
    docs_dir = Path(config["docs_dir"])
    source = docs_dir / page.file.src_uri
    return _rewrite(
        markdown,
        source.parent,
        source.parent,
        docs_dir,
        docs_dir.parent,
        f"docs/{page.file.src_uri}",
    )

"""Writing a benchmark's table into its docs page: one ``## heading`` section, replaced in place
(up to the next ``## `` heading), the rest of the page kept; appended when the page lacks it."""

from __future__ import annotations

from pathlib import Path


def write_section(path, heading: str, body: str, title: str = "") -> None:
    """Set the section ``## {heading}`` of the Markdown file ``path`` to ``body``.

    ``title``: the first line of a page that does not exist yet (e.g. ``# Performance``)."""
    path = Path(path)
    old = path.read_text() if path.exists() else (f"{title}\n" if title else "")
    marker = f"## {heading}\n"
    if old.startswith(marker):
        old = "\n" + old
    head, found, rest = old.partition("\n" + marker)
    tail = rest.partition("\n## ")[2] if found else ""
    section = f"## {heading}\n\n{body.strip(chr(10))}\n"
    path.write_text(
        (head.rstrip("\n") + "\n\n" if head.strip() else "")
        + section
        + (f"\n## {tail}" if tail else "")
    )

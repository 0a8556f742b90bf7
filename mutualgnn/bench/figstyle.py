"""What every figure of a results folder shares: the printed page's width (7.2 inches, at most
three panels a row), text of 8.5 points or more at that width, colour-blind-safe colours for
architectures and methods, a legend above the panels with a caption under it, and files that
are the same bytes for the same figure.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402

from ..files import replacing_path  # noqa: E402

#: a printed page's text width (inches)
WIDTH = 7.2
#: the most panels a row
COLUMNS = 3
#: matplotlib settings of every figure: text of 8.5-9.5 points at the page's width
STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
#: colours (Okabe-Ito, distinguishable in grey and by colour-blind readers)
ARCH_COLOURS = {
    "gcn": "#0072b2",
    "gat": "#e69f00",
    "gin": "#009e73",
    "sage": "#d55e00",
    "mlp": "#cc79a7",
}
METHOD_COLOURS = {
    "independent": "0.35",
    "ensemble": "#56b4e9",
    "dml": "#e69f00",
    "gml": "#0072b2",
    "gml-no-alw": "#009e73",
    "gml-no-entropy": "#cc79a7",
    "gml-sharpen": "#d55e00",
    "online-ensemble": "#f0e442",
    "kd": "#882255",
}
SPARE = ("#999933", "#44aa99", "#aa4499", "#332288", "#117733")


def arch_colour(name: str) -> str:
    """An architecture's colour (the same in every figure)."""
    return ARCH_COLOURS.get(name) or SPARE[sum(map(ord, name)) % len(SPARE)]


def method_colour(name: str) -> str:
    """A method's colour (the same in every figure)."""
    return METHOD_COLOURS.get(name) or SPARE[sum(map(ord, name)) % len(SPARE)]


def page_width(cols: int) -> float:
    """A figure's width (inches) for ``cols`` panels a row: a panel as wide as in a full row."""
    return WIDTH if cols >= COLUMNS else min(WIDTH, WIDTH * cols / COLUMNS + 1.2)


def panels(n: int, row_height: float):
    """A figure of ``n`` panels, at most :data:`COLUMNS` a row, ``row_height`` inches each."""
    cols = min(COLUMNS, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(page_width(cols), row_height * rows), squeeze=False
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def cohort_name(cohort: str) -> str:
    """A cohort as a title names it: ``gcn+gat``; one architecture repeated, ``6×gcn``."""
    archs = cohort.split(",")
    return (
        f"{len(archs)}×{archs[0]}" if len(archs) > 2 and len(set(archs)) == 1 else "+".join(archs)
    )


def legend(fig, handles, caption: str = "") -> None:
    """The figure's legend above its panels, in as many rows as its width needs, and below it
    ``caption``, wrapped to the figure's width; the figure grows by their height."""
    columns = min(len(handles), 5, max(2, int(fig.get_figwidth() / 1.4)))
    rows = math.ceil(len(handles) / columns)
    # about 14 characters an inch at the caption's 8.5 pt
    caption = textwrap.fill(caption, width=max(20, int(14 * fig.get_figwidth())))
    lines = caption.count("\n") + 1 if caption else 0
    top = 0.27 * rows + 0.2 * lines + (0.05 if caption else 0) + 0.12
    height = fig.get_figheight() + top
    fig.set_figheight(height)
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=columns,
        frameon=False,
        bbox_to_anchor=(0.5, 1.0),
        handlelength=1.8,
        columnspacing=1.2,
    )
    if caption:
        fig.text(
            0.5,
            1 - (0.27 * rows + 0.06) / height,
            caption,
            ha="center",
            va="top",
            fontsize=8.5,
            color="0.25",
        )
    fig.tight_layout(rect=(0, 0, 1, 1 - top / height))


def save(fig, path, tight: bool = True, format: str = "png") -> Path:
    """Write ``fig`` to ``path`` (PNG at 150 dpi, or SVG with its text as text) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    # the same figure gives the same bytes: no date, SVG ids from a fixed salt
    with (
        replacing_path(path) as tmp,
        plt.rc_context({"svg.hashsalt": "mutualgnn", "svg.fonttype": "none"}),
    ):
        fig.savefig(
            tmp, dpi=150, format=format, metadata={"Date": None} if format == "svg" else None
        )
    plt.close(fig)
    return path

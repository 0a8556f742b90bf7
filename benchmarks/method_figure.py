"""The method figure of the README and docs/method.md: two students, the ensemble coordinator
and the soft targets they exchange (a drawing, no measurement).

    python benchmarks/method_figure.py --out docs/figures/method.svg
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

BLUE, ORANGE, GREY, GREEN = "#0072b2", "#d55e00", "#555555", "#009e73"


def box(ax, x, y, w, h, text, colour, size=11.5, weight="normal"):
    ax.add_patch(
        FancyBboxPatch(
            (x, y),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            fc=matplotlib.colors.to_rgba(colour, 0.10),
            ec=colour,
            lw=1.4,
        )
    )
    ax.text(
        x + w / 2,
        y + h / 2,
        text,
        ha="center",
        va="center",
        fontsize=size,
        weight=weight,
        color="0.1",
        linespacing=1.5,
    )


def arrow(ax, start, end, colour=GREY, label=None, at=0.5, dy=0.14, style="-", rad=0.0, size=11):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=12,
            lw=1.3,
            color=colour,
            ls=style,
            shrinkA=2,
            shrinkB=2,
            connectionstyle=f"arc3,rad={rad}",
        )
    )
    if label:
        x = start[0] + at * (end[0] - start[0])
        y = start[1] + at * (end[1] - start[1]) + dy
        ax.text(
            x, y, label, ha="center", va="bottom" if dy >= 0 else "top", fontsize=size, color=colour
        )


def draw(path):
    fig, ax = plt.subplots(figsize=(9, 3.9))
    ax.set_xlim(0, 10.4)
    ax.set_ylim(-0.25, 4.3)
    ax.axis("off")
    box(ax, 0.05, 1.75, 1.45, 1.1, "graph $G$\nfeatures $X$\n(N, F)", GREY, size=10.5)
    box(ax, 2.0, 3.05, 1.6, 1.0, "student 1\n(e.g. GCN)", BLUE, weight="bold")
    box(ax, 2.0, 0.55, 1.6, 1.0, "student 2\n(e.g. GAT)", ORANGE, weight="bold")
    box(
        ax,
        4.25,
        1.5,
        2.85,
        1.6,
        "ensemble coordinator\n(adaptive logit weighting)\n"
        r"$w_k$ from $[\,z_k \,\|\, -H(p_k)\,]$" + "\n" + r"$q_k = \mathrm{softmax}(w_k z_k / T)$",
        GREEN,
        size=10,
    )
    box(
        ax,
        7.75,
        2.95,
        2.6,
        1.2,
        "loss of student 1\n"
        r"CE$(z_1, y)$ + $\lambda$ KL$(q_2 \,\|\, p_1)$" + "\n" + r"$-\ \gamma\, H(p_1)$",
        BLUE,
        size=10,
    )
    box(
        ax,
        7.75,
        0.45,
        2.6,
        1.2,
        "loss of student 2\n"
        r"CE$(z_2, y)$ + $\lambda$ KL$(q_1 \,\|\, p_2)$" + "\n" + r"$-\ \gamma\, H(p_2)$",
        ORANGE,
        size=10,
    )
    arrow(ax, (1.5, 2.45), (2.0, 3.45))
    arrow(ax, (1.5, 2.15), (2.0, 1.15))
    # logits to the coordinator and to the student's own loss
    arrow(ax, (3.6, 3.3), (4.25, 2.8), BLUE, r"$z_1$", at=0.3, dy=0.04)
    arrow(ax, (3.6, 1.3), (4.25, 1.8), ORANGE, r"$z_2$", at=0.3, dy=-0.04)
    arrow(ax, (3.6, 3.8), (7.75, 3.8), BLUE, r"logits $z_1$, $p_1 = \mathrm{softmax}(z_1/T)$")
    arrow(
        ax,
        (3.6, 0.8),
        (7.75, 0.8),
        ORANGE,
        r"logits $z_2$, $p_2 = \mathrm{softmax}(z_2/T)$",
        dy=-0.14,
    )
    # each student's soft target goes to its peer's loss (detached: no gradient to the peer)
    arrow(ax, (7.1, 2.0), (7.75, 3.2), ORANGE, None, style="--")
    arrow(ax, (7.1, 2.6), (7.75, 1.4), BLUE, None, style="--")
    ax.text(7.33, 3.0, r"$q_2$", color=ORANGE, fontsize=11.5, ha="right")
    ax.text(7.33, 1.45, r"$q_1$", color=BLUE, fontsize=11.5, ha="right", va="top")
    ax.text(
        5.2,
        0.02,
        "dashed: a student's soft target to its peer's loss, detached (no "
        "gradient); labels $y$ on the training rows only",
        ha="center",
        fontsize=9.5,
        color=GREY,
    )
    ax.text(
        5.2,
        -0.3,
        "one optimiser step for both students and the coordinator; inference: either student alone",
        ha="center",
        fontsize=9.5,
        color=GREY,
    )
    fig.tight_layout(pad=0.2)
    with plt.rc_context({"svg.hashsalt": "mutualgnn", "svg.fonttype": "path"}):
        fig.savefig(path, format="svg", metadata={"Date": None})
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/figures/method.svg")
    draw(ap.parse_args().out)


if __name__ == "__main__":
    main()

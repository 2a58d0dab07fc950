"""Draw docs/soma.png: what each kind of SWC soma becomes (NEURON's Import3d rules).

Run from the repository root: ``python docs/soma_figure.py [OUT.png]``.
"""

import sys
from pathlib import Path

import numpy as np

import hhcable as hc

CASES = {
    "one-point soma": """1 1 0 0 0 6 -1
2 3 9 3 0 1.2 1
3 3 30 12 0 1.0 2
4 3 45 6 0 0.8 3
5 3 48 24 0 0.7 3
6 2 -8 -5 0 0.8 1
7 2 -40 -14 0 0.7 6
""",
    "three-point soma (NeuroMorpho)": """1 1 0 0 0 6 -1
2 1 0 -6 0 6 1
3 1 0 6 0 6 1
4 3 9 3 0 1.2 1
5 3 30 12 0 1.0 4
6 3 45 6 0 0.8 5
7 3 48 24 0 0.7 5
8 2 -8 -5 0 0.8 1
9 2 -40 -14 0 0.7 8
""",
    "contour soma (a chain of soma samples)": """1 1 -9 0 0 2 -1
2 1 -5 4 0 5 1
3 1 0 5 0 6.5 2
4 1 5 4 0 5 3
5 1 9 0 0 2 4
6 3 0 9 0 1.2 3
7 3 6 30 0 1.0 6
8 3 -10 42 0 0.8 7
9 2 9 0 0 0.8 5
10 2 40 -12 0 0.7 9
""",
}


def outline(points):
    """Polygon of a chain of frustums seen from above (x, y)."""
    xy, r = points[:, :2], points[:, 3]
    step = np.diff(xy, axis=0)
    length = np.linalg.norm(step, axis=1)
    keep = length > 0
    normal = np.zeros_like(step)
    normal[keep] = np.column_stack([-step[keep, 1], step[keep, 0]]) / length[keep, None]
    normal[~keep] = normal[keep][0] if keep.any() else (0.0, 1.0)
    n_pt = np.vstack([normal[:1], (normal[:-1] + normal[1:]) / 2]) if len(normal) > 1 else normal
    n_pt = np.vstack([n_pt, normal[-1:]])
    left, right = xy + r[:, None] * n_pt, xy - r[:, None] * n_pt
    return np.vstack([left, right[::-1]])


def point_at(section, x):
    """(x, y) of fraction x along a section."""
    s = x * section.length
    return np.array([np.interp(s, section.arc, section.points[:, k]) for k in (0, 1)])


def draw(ax, morph, title):
    colours = {1: "0.55", 2: "tab:red", 3: "tab:blue"}
    for sec in morph.sections:
        ax.fill(*outline(sec.points).T, color=colours.get(sec.type, "tab:green"), alpha=0.45, lw=0)
        if sec.parent >= 0:
            parent = morph.sections[sec.parent]
            at = point_at(parent, sec.parent_x)
            ax.plot(*at, "k.", ms=7)
            if sec.start is None:  # joined only electrically: NEURON's wire
                ax.plot([at[0], sec.points[0, 0]], [at[1], sec.points[0, 1]], "k--", lw=0.8)
            ax.annotate(f"{sec.name} → {parent.name.split('[')[0]}({sec.parent_x:g})", sec.points[-1, :2],
                        fontsize=7, xytext=(3, 3), textcoords="offset points")
    g = morph.graph
    xy = np.array([(g.nodes[s]["x"], g.nodes[s]["y"]) for s in g])
    ax.plot(*xy.T, "o", ms=3, mfc="white", mec="k", mew=0.7)
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal")
    ax.axis("off")


def main(out="docs/soma.png"):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
    for ax, (title, text) in zip(axes, CASES.items()):
        draw(ax, hc.parse_swc(text), title)
    fig.text(0.5, 0.02, "white dots: SWC samples · shaded: the sections' frustums (soma grey, dendrites blue, "
             "axon red) · black dot: where a section attaches · dashed: attached only electrically",
             ha="center", fontsize=8)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Path(out)


if __name__ == "__main__":
    print(main(*sys.argv[1:]))

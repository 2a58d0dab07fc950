"""Animations: the action potential travelling along an axon and through a Y junction.

Writes two GIFs (``hhcable.animation``): the voltage along a 2 µm HH axon frame by frame,
and the Y junction's 2D projection coloured by voltage.  A still of the axon at one moment
goes to a PNG.  The same is available from the command line:
``hhcable animate MODEL.toml OUT.gif``.

Run ``python examples/13_animation.py`` to write ``13_axon.gif``, ``13_y_junction.gif``
and ``13_axon_still.png``.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import animation, plotting  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

FRAMES = 40


def run(morph):
    cell = hc.Cell(morph, celsius=18.5, max_segment=25.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.025)
    sim.iclamp(at=0.0, delay=0.2, dur=0.3, amp=1.0)
    sim.record_space(every=2)
    return sim.run(5.0)


def main(outdir=FIGURES):
    """Simulate and write the animations and the still; returns their paths."""
    out = Path(outdir)
    axon = run(hc.Morphology.cable(length=4000.0, diam=2.0))
    tree = run(hc.Morphology.y_junction(1500.0, 2.0, (1500.0, 1500.0), (1.0, 3.0), angle=70.0))
    paths = [animation.animate(axon, out / "13_axon.gif", max_frames=FRAMES),
             animation.animate(tree, out / "13_y_junction.gif", max_frames=FRAMES, stimuli=[0.0])]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for t in (1.0, 2.0, 3.0):
        k = int(round(t / (axon.space_t[1] - axon.space_t[0])))
        ax.plot(axon.cell.compartments.distance, axon.space_v[k], label=f"t = {t:g} ms")
    ax.set_xlabel("distance along the axon (µm)")
    ax.set_ylabel(plotting.LABELS["v"])
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    paths.append(plotting.save(fig, out / "13_axon_still.png"))
    return [str(p) for p in paths]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

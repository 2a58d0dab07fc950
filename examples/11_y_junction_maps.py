"""A spike through a Y junction: latency map, voltage snapshot and traces at the tips.

An HH parent axon (2 µm) splits into a thin (1 µm) and a thick (3 µm) daughter.  The thick
daughter loads the branch point more than the 3/2 rule would match (Σd^1.5 exceeds the
parent's), so the spike slows at the junction; beyond it each daughter conducts at its own
speed (faster in the thick one, ∝ sqrt(d)).  The morphology is coloured by first-spike
arrival time and by the voltage at one moment, with the stimulus and the probes marked.

Run ``python examples/11_y_junction_maps.py [FOLDER]`` to write ``11_y_junction_maps.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import plotting, theory  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

PARENT, THIN, THICK = 2.0, 1.0, 3.0  # µm
LENGTH = 1500.0  # µm, each branch
SNAPSHOT = 4.0  # ms


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    morph = hc.Morphology.y_junction(LENGTH, PARENT, (LENGTH, LENGTH), (THIN, THICK), angle=70.0)
    cell = hc.Cell(morph, celsius=18.5, max_segment=20.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.025)
    sim.iclamp(at=0.0, delay=0.2, dur=0.3, amp=1.0)
    sim.probe("junction", at={"swc_id": 1})
    sim.probe("thin tip", at={"swc_id": 3})
    sim.probe("thick tip", at={"swc_id": 5})
    sim.record_crossings(0.0)
    sim.record_space(every=4)
    res = sim.run(8.0)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    plotting.plot_latency_map(res, ax=axes[0], stimuli=[0.0])
    axes[0].set_title(f"Σd^1.5/d_p^1.5 = {theory.rall_ratio(PARENT, (THIN, THICK)):.2f}")
    plotting.plot_voltage_map(res, SNAPSHOT, ax=axes[1], stimuli=[0.0])
    plotting.plot_traces(res, axes[2])
    fig.tight_layout()
    return [plotting.save(fig, Path(outdir) / "11_y_junction_maps.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

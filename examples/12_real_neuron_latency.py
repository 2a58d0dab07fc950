"""A spike spreading through a real neuron: a Pvalb interneuron from the Allen Institute.

Hodgkin–Huxley channels everywhere (the SWC file carries none, so this shows propagation
through real branching, not a model of this cell).  A brief current at the soma starts a
spike; the left panel colours the cell by the time each compartment first crossed 0 mV
(grey: never), the middle one by the voltage 1 ms after the stimulus, and the right one
plots the arrival time against path distance from the soma.

Run ``python examples/12_real_neuron_latency.py [FOLDER]`` to write ``12_real_neuron_latency.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import plotting  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

SWC = Path(__file__).resolve().parent.parent / "morphologies" / "bmtk__Pvalb_470522102_m.swc"
DELAY = 0.5  # ms


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    with warnings.catch_warnings():  # the file's soft problems are listed in morph.warnings
        warnings.simplefilter("ignore", hc.SWCWarning)
        morph = hc.read_swc(SWC)
    cell = hc.Cell(morph, Ra=100.0, d_lambda=0.1)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.025)
    soma = {"swc_id": morph.root}
    sim.iclamp(at=soma, delay=DELAY, dur=1.0, amp=2.0)
    sim.probe("soma", at=soma)
    sim.record_crossings(0.0)
    sim.record_space(every=4)
    res = sim.run(8.0)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5))
    plotting.plot_latency_map(res, ax=axes[0], stimuli=[soma], origin=DELAY)
    axes[0].set_title(f"Pvalb 470522102, {cell.n_compartments} compartments, HH everywhere")
    plotting.plot_voltage_map(res, DELAY + 1.0, ax=axes[1], stimuli=[soma])
    seg = cell.compartments.area > 0
    axes[2].plot(cell.compartments.distance[seg], res.crossings[seg] - DELAY, ".", ms=2)
    axes[2].set_xlabel("path distance from the soma (µm)")
    axes[2].set_ylabel("first crossing of 0 mV after the stimulus (ms)")
    fig.tight_layout()
    return [plotting.save(fig, Path(outdir) / "12_real_neuron_latency.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

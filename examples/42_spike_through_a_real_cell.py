"""A spike spreading through a real neuron: the CA1 pyramidal cell c91662 (NeuroMorpho.Org).

Hodgkin–Huxley channels are put everywhere (the SWC file carries no channels, so this is a
picture of propagation through real branching, not a model of this cell).  A brief current
at the soma starts a spike; the figure colours every compartment by the time it first
crossed 0 mV, and plots that time against path distance from the soma.

Run ``python examples/42_spike_through_a_real_cell.py [FOLDER]`` to write ``42_spike_through_a_real_cell.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import plotting  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

SWC = Path(__file__).resolve().parent.parent / "morphologies" / "nrn__c91662.swc"
RA = 100.0        # Ω·cm
D_LAMBDA = 0.1    # NEURON's usual segment rule
DT = 0.025        # ms
TSTOP = 15.0      # ms
STIM_NA = 5.0  # nA at the soma, for 1 ms
DELAY = 0.5       # ms


def simulate(d_lambda=D_LAMBDA, dt=DT):
    """Run the cell; returns the Result (first crossings recorded at every node)."""
    with warnings.catch_warnings():  # the file's soft problems are in morph.warnings
        warnings.simplefilter("ignore", hc.SWCWarning)
        morph = hc.read_swc(SWC)
    cell = hc.Cell(morph, Ra=RA, d_lambda=d_lambda)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=dt)
    sim.iclamp(at=hc.Location(swc_id=1), delay=DELAY, dur=1.0, amp=STIM_NA)
    sim.probe("soma", at=hc.Location(swc_id=1))
    sim.record_crossings(0.0)
    return sim.run(tstop=TSTOP)


def main(outdir=FIGURES, d_lambda=D_LAMBDA, dt=DT):
    """Simulate and write the figure; returns its path."""
    res = simulate(d_lambda, dt)
    comp = res.cell.compartments
    seg = comp.area > 0
    arrival = res.crossings[seg] - DELAY
    fig, (ax_map, ax_dist) = plt.subplots(1, 2, figsize=(11, 5), constrained_layout=True)
    order = np.argsort(-arrival)
    sc = ax_map.scatter(comp.xyz[seg, 0][order], comp.xyz[seg, 1][order], c=arrival[order],
                        s=2 + comp.diam[seg][order] ** 2, cmap="viridis")
    ax_map.set_aspect("equal")
    ax_map.set_xlabel("x (µm)")
    ax_map.set_ylabel("y (µm)")
    ax_map.set_title("CA1 pyramidal cell c91662, HH everywhere")
    fig.colorbar(sc, ax=ax_map, label="first crossing of 0 mV after onset (ms)")
    soma = comp.xyz[res.cell.locate(hc.Location(swc_id=1))]
    ax_map.plot(soma[0], soma[1], "v", color=plotting.STIMULUS_COLOUR, mec="k", ms=12, zorder=6,
                gid=plotting.STIMULUS_GID, label=f"stimulus, {STIM_NA:g} nA")
    ax_map.legend(frameon=False, loc="lower right", fontsize="small")
    for code, name in ((2, "axon"), (3, "basal"), (4, "apical")):
        mask = comp.type[seg] == code
        ax_dist.plot(comp.distance[seg][mask], arrival[mask], ".", ms=3, label=name)
    ax_dist.set_xlabel("path distance from the soma centre (µm)")
    ax_dist.set_ylabel("first crossing of 0 mV after onset (ms)")
    ax_dist.legend(frameon=False)
    n_missed = int(np.isnan(arrival).sum())
    ax_dist.set_title(f"{seg.sum()} compartments; {n_missed} never spiked")
    path = Path(outdir) / "42_spike_through_a_real_cell.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

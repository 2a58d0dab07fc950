"""Demyelination: conduction slows as an internode loses lamellae, then fails.

A 10 µm single-cable myelinated fibre (``hc.myelinated_fibre``, HH-kinetics nodes at
6.3 °C) with a lesion: three internodes in its middle keep only a fraction of their
lamellae (``demyelinated=..., lamellae_left=...``).  Fewer lamellae mean more capacitance
and leak under the myelin, so the nodes after the lesion charge later; below a critical
fraction the spike cannot charge the next node to threshold and conduction blocks, as in
demyelinating disease (reviewed by Waxman 1977, Arch Neurol 34:585).  Near the block the
nodes inside the lesion may stay silent while the spike still reaches, late, a node past it
and restarts there, running back into the lesion as well as on.

Left: the delay the lesion adds to the spike's arrival at the fibre's far end, against the
fraction of lamellae left, with the block (the far end never fires) marked.  Right: the spike's arrival at
every node for a few fractions.

Run ``python examples/28_demyelination.py [FOLDER]`` to write ``28_demyelination.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import plotting  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"
DIAM, N_NODES, LESION = 10.0, 41, (19, 20, 21)  # µm, nodes, internodes demyelinated
FRACTIONS = (1.0, 0.5, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.03, 0.02, 0.0)
SHOWN = (1.0, 0.1, 0.03, 0.0)
DT, TSTOP = 0.01, 10.0  # ms


def arrivals(fraction):
    """First crossing of 0 mV (ms) at every node, NaN where the spike never came."""
    fibre = hc.myelinated_fibre(diam=DIAM, n_nodes=N_NODES, internode_segments=5,
                                demyelinated=LESION if fraction < 1.0 else (), lamellae_left=fraction)
    sim = hc.Simulation(fibre.cell, dt=DT)
    sim.iclamp(at=fibre.node(0), delay=0.1, dur=0.1, amp=20.0)
    sim.record_crossings(0.0)
    return fibre, sim, sim.run(TSTOP).crossings[fibre.nodes]


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    runs = {f: arrivals(f) for f in FRACTIONS}
    delay = np.array([runs[f][2][-1] - runs[1.0][2][-1] for f in FRACTIONS])  # at the far end
    blocked = ~np.isfinite(delay)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    frac = np.array(FRACTIONS)
    left.plot(frac[~blocked], delay[~blocked] * 1e3, "o-", label="conducts")
    if blocked.any():
        top = np.nanmax(delay) * 1e3
        left.plot(frac[blocked], np.full(blocked.sum(), top), "rx", ms=9, label="block")
        left.axvspan(0.0, frac[~blocked].min(), color="r", alpha=0.08)
    left.set_xlabel("lamellae left in the lesion (fraction)")
    left.set_ylabel("delay added at the far end (µs)")
    left.set_title(f"{len(LESION)} internodes demyelinated")
    left.legend(frameon=False, fontsize="small")
    for f in SHOWN:
        fibre, sim, times = runs[f]
        right.plot(times, fibre.node_positions / 1e3, "o-", ms=3, label=f"{f:g} of the lamellae")
    lesion = runs[SHOWN[0]][0].node_positions[[LESION[0], LESION[-1] + 1]] / 1e3
    right.axhspan(*lesion, color="0.85", label="lesion")
    right.set_xlabel("arrival at the node (ms)")
    right.set_ylabel("node position (mm)")
    right.legend(frameon=False, fontsize="x-small")
    plotting.plot_stimulus(right, runs[SHOWN[0]][1].stimuli, np.linspace(0.0, 2.0, 201))
    fig.tight_layout()
    speed = {f: round(float(d), 4) for f, d in zip(FRACTIONS, delay)}
    print(f"delay added at the far end (ms) by fraction of lamellae left: {speed}")
    return [plotting.save(fig, Path(outdir) / "28_demyelination.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""Saltatory conduction: the spike jumps from node to node of a myelinated fibre.

The MRG double-cable fibre (McIntyre, Richardson & Grill 2002; ``hc.mrg_fibre``, 10 µm,
37 °C) is stimulated at its first node.  Left: the membrane potential along four of its
internodes against time, nodes of Ranvier marked: only the nodes fire; under the myelin
the axolemma barely moves, because the periaxonal space follows the axoplasm's potential.
Right: the membrane potential at successive nodes, each firing a fixed delay after the one
before (Huxley & Stämpfli 1949 measured it in frog fibres); distance over delay is the
node-to-node velocity (``hc.node_velocity``, fitted over the fibre's middle nodes).

Run ``python examples/26_saltatory.py [FOLDER]`` to write ``26_saltatory.png`` into FOLDER
(default: ``examples/figures/``).
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
DIAM, N_NODES = 10.0, 15  # µm, nodes of Ranvier
DT, TSTOP = 0.005, 1.0  # ms
SHOWN = range(5, 10)  # the nodes drawn


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    fibre = hc.mrg_fibre(diam=DIAM, n_nodes=N_NODES)
    sim = hc.Simulation(fibre.cell, dt=DT, v_init=-80.0)
    sim.iclamp(at=fibre.node(0), delay=0.1, dur=0.1, amp=2.0)
    for k in SHOWN:
        sim.probe(f"node {k}", at=fibre.node(k))
    sim.record_crossings(0.0)
    sim.record_space(every=1)
    res = sim.run(TSTOP)
    cv = hc.node_velocity(res, fibre)
    x_nodes = fibre.node_positions
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    plotting.plot_space_time(res, left)  # the stimulus (node 0) is below the window: drawn right
    for x in x_nodes:
        left.axhline(x, color="w", lw=0.5, ls=":")
    left.set_ylim(x_nodes[SHOWN[0]] - 200.0, x_nodes[SHOWN[-1]] + 200.0)
    left.set_xlim(0.1, 0.6)
    left.set_title(f"MRG fibre, {DIAM:g} µm: nodes dotted")
    for k in SHOWN:
        right.plot(res.t, res[f"node {k}"], label=f"node {k}")
    delay = float(np.mean(np.diff(cv["times_ms"][list(SHOWN)])))
    right.set_xlim(0.1, 0.6)
    right.set_xlabel("time (ms)")
    right.set_ylabel("membrane potential (mV)")
    right.set_title(f"{delay * 1e3:.0f} µs node to node: {cv['cv_m_s']:.1f} m/s")
    right.legend(frameon=False, fontsize="small")
    plotting.plot_stimulus(right, sim.stimuli, res.t)
    fig.tight_layout()
    return [plotting.save(fig, Path(outdir) / "26_saltatory.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

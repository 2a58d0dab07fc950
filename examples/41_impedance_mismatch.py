"""Impedance mismatch: a spike in a thin axon running into a thick one.

Where a thin HH axon (1 µm) widens abruptly, the thick axon's input conductance loads the
thin one: the spike slows as it approaches the step and, when the step is large enough, the
current the thin axon can deliver no longer brings the thick one to threshold and the spike
fails (Goldstein & Rall 1974, Biophys J 14:731).  Here a step to 4 µm lets the spike through,
late; a step to 20 µm blocks it.

Run ``python examples/41_impedance_mismatch.py [FOLDER]`` to write ``41_impedance_mismatch.png``
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
from hhcable.units import M_S_PER_UM_MS  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

THIN_UM = 1.0          # diameter of the thin axon, µm
PASSES_UM = 4.0        # a thick axon the spike enters, µm
BLOCKS_UM = 20.0       # a thick axon that blocks it, µm
LENGTH_UM = 2000.0     # length of each part, µm
RA = 35.4              # Ω·cm
DT = 0.025             # ms
TSTOP = 25.0           # ms
DELAY = 0.5            # stimulus onset, ms


def mismatch_axon(thin, thick, length=LENGTH_UM):
    """SWC of a thin axon (diameter ``thin``, µm) joined to a thick one (``thick``, µm).

    The thick part starts with a sample at the junction carrying its own radius.
    """
    text = (f"1 2 0 0 0 {thin / 2} -1\n"
            f"2 2 {length} 0 0 {thin / 2} 1\n"
            f"3 2 {length} 0 0 {thick / 2} 2\n"
            f"4 2 {2 * length} 0 0 {thick / 2} 3\n")
    with warnings.catch_warnings():  # the step itself is reported as a radius jump
        warnings.simplefilter("ignore", hc.SWCWarning)
        return hc.parse_swc(text, source=f"mismatch_{thin:g}_{thick:g}.swc")


def run_case(thick, thin=THIN_UM):
    """Simulate a spike started at the thin end.

    Returns
    -------
    dict
        ``result`` (Result), ``distance`` (µm) and ``crossing`` (ms, NaN where the spike
        never arrived) of every node, ``junction_um`` and ``arrived`` (bool, at the far end).
    """
    morph = mismatch_axon(thin, thick)
    cell = hc.Cell(morph, Ra=RA, max_segment=10.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=DT)
    sim.iclamp(at=hc.Location(swc_id=1), delay=DELAY, dur=0.5, amp=0.5)
    for name, x in (("thin, 1000 µm", 0.25), ("thin, 1900 µm", 0.475), ("thick, 2500 µm", 0.625)):
        sim.probe(name, at=x)
    sim.record_crossings(0.0)
    res = sim.run(tstop=TSTOP)
    comp = cell.compartments
    return {"result": res, "stimuli": sim.stimuli, "distance": comp.distance, "crossing": res.crossings,
            "junction_um": LENGTH_UM, "arrived": bool(np.isfinite(res.crossings[comp.sample_node[4]]))}


def local_velocity(case, start, stop):
    """Mean velocity (m/s) between distances ``start`` and ``stop`` (µm) from first crossings."""
    d, t = case["distance"], case["crossing"]
    ta, tb = (t[np.argmin(np.abs(d - x))] for x in (start, stop))
    return (stop - start) / (tb - ta) * M_S_PER_UM_MS


def main(outdir=FIGURES):
    """Run both cases and write the figure; returns its path."""
    cases = {f"{THIN_UM:g} → {PASSES_UM:g} µm": run_case(PASSES_UM),
             f"{THIN_UM:g} → {BLOCKS_UM:g} µm": run_case(BLOCKS_UM)}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    for (label, case), ax in zip(cases.items(), axes[:2]):
        res = case["result"]
        for name, trace in zip(res.names, res.traces):
            ax.plot(res.t, trace, lw=1.2, label=name)
        verdict = "passes" if case["arrived"] else "blocked"
        ax.set_title(f"{label}: {verdict}")
        ax.set_xlabel("time (ms)")
        ax.set_ylabel("membrane potential (mV)")
        ax.legend(fontsize="small", frameon=False)
        plotting.plot_stimulus(ax, case["stimuli"], res.t)
    ax = axes[2]
    for label, case in cases.items():
        order = np.argsort(case["distance"])
        ax.plot(case["crossing"][order] - DELAY, case["distance"][order], lw=1.5, label=label)
    ax.axhline(LENGTH_UM, color="0.5", ls=":", lw=1)
    ax.text(0.2, LENGTH_UM, "diameter step", va="bottom", fontsize="small", color="0.4")
    ax.set_xlabel("first crossing of 0 mV after onset (ms)")
    ax.set_ylabel("distance from the thin end (µm)")
    ax.legend(fontsize="small", frameon=False)
    ax.set_title("the spike slows before the step")
    path = Path(outdir) / "41_impedance_mismatch.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    for label, case in cases.items():
        print(f"{label}: far end reached: {case['arrived']}; velocity 500–1000 µm "
              f"{local_velocity(case, 500, 1000):.3f} m/s, 1800–1950 µm {local_velocity(case, 1800, 1950):.3f} m/s")
    return str(path)


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""A passive cable: the length constant λ, steady-state profiles and input resistance.

A constant current into one end of a passive cable (d = 2 µm, Rm = 10 kΩ·cm², Ra = 100 Ω·cm,
so λ = 707 µm) until the voltage is steady.  Dots: the simulator; lines: cable theory
(``hhcable.theory``) for a sealed end, a killed end (held at rest; simulated as the midpoint
of a cable twice as long driven antisymmetrically) and an infinite cable.  The legend gives
the input resistances, theory against simulation.

Run ``python examples/07_passive_cable.py [FOLDER]`` to write ``07_passive_cable.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import plotting, theory  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

DIAM, G, RA = 2.0, 1e-4, 100.0  # µm, S/cm², Ω·cm
LENGTH = 1000.0  # µm
AMP = 0.1  # nA
DT, TSTOP = 5.0, 400.0  # ms: backward Euler reaches the steady state in 80 long steps


def steady(length, injections):
    cell = hc.Cell(hc.Morphology.cable(length=length, diam=DIAM), cm=1.0, Ra=RA, max_segment=20.0)
    cell.insert(hc.Passive(g=G, e=0.0))
    sim = hc.Simulation(cell, dt=DT, v_init=0.0)
    for at, amp in injections:
        sim.iclamp(at=at, delay=0.0, dur=2 * TSTOP, amp=amp)
    sim.record_space(every=int(TSTOP / DT))
    return cell.compartments.distance, sim.run(TSTOP).space_v[-1]


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    lam = float(theory.length_constant(DIAM, G, RA))
    cases = {
        "sealed": steady(LENGTH, [(0.0, AMP)]),
        "killed": steady(2 * LENGTH, [(0.0, AMP), (1.0, -AMP)]),
        "infinite": steady(10 * lam, [(0.0, AMP)]),
    }
    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = np.linspace(0.0, LENGTH, 200)
    for i, (end, (dist, v)) in enumerate(cases.items()):
        r_theory = theory.input_resistance(DIAM, LENGTH, G, RA, end=end)
        shown = dist <= LENGTH
        ax.plot(x, AMP * r_theory * theory.steady_state_profile(x, LENGTH, lam, end=end), color=f"C{i}",
                label=f"{end}: R_in {r_theory:.1f} MΩ (theory), {v[0] / AMP:.1f} MΩ (simulated)")
        ax.plot(dist[shown][::3], v[shown][::3], "o", color=f"C{i}", ms=3)
    ax.axvline(lam, color="0.6", ls=":", label=f"λ = {lam:.0f} µm")
    ax.set_xlabel("distance from the injection (µm)")
    ax.set_ylabel("steady depolarisation (mV)")
    ax.set_title(f"{AMP:g} nA into a passive cable, {LENGTH:g} µm (lines: theory, dots: simulation)")
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return [plotting.save(fig, Path(outdir) / "07_passive_cable.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

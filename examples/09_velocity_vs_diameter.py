"""Conduction velocity against diameter: unmyelinated axons follow v ∝ sqrt(d).

HH axons (squid membrane at 18.5 °C, Ra = 35.4 Ω·cm) from 1 to 1000 µm, all simulated together
as one batch.  The line is the square-root law scaled from Hodgkin and Huxley's 18.8 m/s at
476 µm (``hhcable.theory.unmyelinated_velocity``); the law follows from the cable equation,
which is unchanged when distance is rescaled by sqrt(d).

Run ``python examples/09_velocity_vs_diameter.py [FOLDER]`` to write ``09_velocity_vs_diameter.png``
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

DIAMS = np.geomspace(1.0, 1000.0, 7)  # µm
SEGMENTS = 200  # per axon of 6 resting length constants
DT = 0.01  # ms


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    sims = []
    for d in DIAMS:
        length = 6 * float(theory.length_constant(d, 0.0003, theory.HH1952_RA))  # resting λ
        cell = hc.Cell(hc.Morphology.cable(length=length, diam=d), Ra=theory.HH1952_RA,
                       celsius=theory.HH1952_CELSIUS, max_segment=length / SEGMENTS)
        cell.insert(hc.HH())
        sim = hc.Simulation(cell, dt=DT, method="crank_nicolson")
        sim.iclamp(at=0.0, delay=0.1, dur=0.2, amp=d**1.5)  # threshold scales as d^1.5
        sim.record_crossings(0.0)
        sims.append(sim)
    results = hc.Batch(sims).run(tstop=6.0)
    measured = [hc.conduction_velocity(r, start=0.3, stop=0.7)["cv_m_s"] for r in results]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    d = np.geomspace(DIAMS[0], DIAMS[-1], 100)
    ax.loglog(d, theory.unmyelinated_velocity(d), "k-", label="sqrt law from HH 1952 (18.8 m/s at 476 µm)")
    ax.loglog(DIAMS, measured, "o", label="simulated")
    ax.set_xlabel("axon diameter (µm)")
    ax.set_ylabel("conduction velocity (m/s)")
    ax.set_title("unmyelinated HH axons, 18.5 °C")
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return [plotting.save(fig, Path(outdir) / "09_velocity_vs_diameter.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

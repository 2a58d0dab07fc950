"""Passive charging: a current step into a patch of membrane, against V = I R (1 − exp(−t/τ)).

An isopotential compartment with only a leak (Rm = 10 kΩ·cm², cm = 1 µF/cm², so
τ = Rm cm = 10 ms) receives a current step.  Its voltage rises as the capacitor charges,
reaching 63 % of the final I·R after one τ, and falls back the same way when the step ends
(the RC circuit of the membrane; Hodgkin & Huxley 1952, Fig. 1; Johnston & Wu 1995, ch. 4).
The dots are the simulator, the line the closed form.

Run ``python examples/23_passive_charging.py [FOLDER]`` to write ``23_passive_charging.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hhcable as hc  # noqa: E402
import hhcable.plotting as hp  # noqa: E402
from hhcable import theory  # noqa: E402
from hhcable.units import CM2_PER_UM2  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

RM = 10_000.0  # Ω·cm²
CM = 1.0  # µF/cm²
AREA = 1e5  # µm²: 1 nA is 1 µA/cm²
AMP = 0.1  # nA
DELAY, DUR, TSTOP = 5.0, 50.0, 100.0  # ms
DT = 0.01  # ms
MV_PER_NA_OHM = 1e-6  # mV per (nA × Ω)


def simulate(dt=DT):
    """The patch and its step; returns (Simulation, Result) with a probe ``v`` (mV from rest)."""
    diam = float(np.sqrt(AREA / np.pi))
    cell = hc.Cell(hc.Morphology.cable(length=diam, diam=diam), cm=CM, max_segment=2 * diam)
    cell.insert(hc.Passive(g=1.0 / RM, e=0.0))
    sim = hc.Simulation(cell, dt=dt, v_init=0.0)
    sim.iclamp(at=0.5, delay=DELAY, dur=DUR, amp=AMP)
    sim.probe("v", at=0.5)
    return sim, sim.run(TSTOP)


def closed_form(t):
    """V(t) (mV) of the RC membrane under the step, from rest."""
    tau = theory.time_constant(CM, 1.0 / RM)
    v_inf = AMP * RM / (AREA * CM2_PER_UM2) * MV_PER_NA_OHM  # I·R, R = Rm / area
    on = np.clip(t - DELAY, 0.0, None)
    off = np.clip(t - DELAY - DUR, 0.0, None)
    return v_inf * ((1 - np.exp(-on / tau)) - (1 - np.exp(-off / tau)))


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    sim, res = simulate()
    tau = theory.time_constant(CM, 1.0 / RM)
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    every = int(1.0 / DT)
    ax.plot(res.t[::every], res["v"][::every], "o", ms=3, label="hhcable")
    ax.plot(res.t, closed_form(res.t), "-", lw=1, label="I R (1 − exp(−t/τ))")
    v_inf = closed_form(np.array([DELAY + DUR]))[0] / (1 - np.exp(-DUR / tau))
    ax.axhline(0.632 * v_inf, color="0.6", ls=":", lw=1)
    ax.axvline(DELAY + tau, color="0.6", ls=":", lw=1)
    ax.text(DELAY + tau, 0.632 * v_inf, " 63 % at t = τ", va="top", fontsize="small", color="0.3")
    hp.plot_stimulus(ax, sim.stimuli, res.t)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("depolarisation from rest (mV)")
    ax.set_title(f"RC membrane: τ = Rm·cm = {tau:g} ms, I·R = {v_inf:.1f} mV")
    ax.legend(frameon=False, loc="upper right")
    return [hp.save(fig, Path(outdir) / "23_passive_charging.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

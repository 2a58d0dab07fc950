"""Rall's 3/2 rule and the equivalent cylinder.

A passive parent dendrite (diameter chosen by the 3/2 rule) splits into daughters of 1 and
1.5 µm whose lengths give both the same electrotonic length.  Seen from the root, the tree is
then one cylinder: the steady voltage along either root-to-tip path, against electrotonic
distance, falls on the equivalent cylinder's cosh profile, and the input resistance matches
(``hhcable.theory.equivalent_cylinder``).

Run ``python examples/10_rall_equivalent_cylinder.py [FOLDER]`` to write ``10_rall_equivalent_cylinder.png``
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

G, RA = 1e-4, 100.0  # S/cm², Ω·cm
DAUGHTERS = (1.0, 1.5)  # µm
PARENT_LENGTH = 400.0  # µm
DAUGHTER_L = 0.8  # electrotonic length of each daughter
AMP = 0.1  # nA
DT, TSTOP = 5.0, 400.0  # ms: backward Euler to the steady state


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    parent = theory.rall_parent_diameter(DAUGHTERS)
    lengths = [DAUGHTER_L * float(theory.length_constant(d, G, RA)) for d in DAUGHTERS]
    eq = theory.equivalent_cylinder(parent, PARENT_LENGTH, DAUGHTERS, lengths, G, RA)
    morph = hc.Morphology.y_junction(PARENT_LENGTH, parent, lengths, DAUGHTERS, type=3)
    cell = hc.Cell(morph, cm=1.0, Ra=RA, max_segment=10.0)
    cell.insert(hc.Passive(g=G, e=0.0))
    sim = hc.Simulation(cell, dt=DT, v_init=0.0)
    sim.iclamp(at=0.0, delay=0.0, dur=2 * TSTOP, amp=AMP)
    sim.record_space(every=int(TSTOP / DT))
    v = sim.run(TSTOP).space_v[-1]
    comp = cell.compartments
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    plotting.plot_morphology(cell, v, ax=left, label="steady depolarisation (mV)", stimuli=[0.0])
    left.set_title(f"parent {parent:.3f} µm: Σd^1.5 / d_p^1.5 = {theory.rall_ratio(parent, DAUGHTERS):.3f}")
    lam_p = float(theory.length_constant(parent, G, RA))
    x = np.linspace(0.0, eq["electrotonic_length"], 100)
    r_in = theory.input_resistance(eq["diam"], eq["length"], G, RA, "sealed")
    right.plot(x, AMP * r_in * theory.steady_state_profile(x, eq["electrotonic_length"], 1.0), "k-",
               label=f"equivalent cylinder, L = {eq['electrotonic_length']:.2f} (R_in {r_in:.0f} MΩ)")
    for k, tip in enumerate((3, 5)):
        nodes, along = comp.path(0, comp.sample_node[tip])
        in_parent = along <= PARENT_LENGTH
        lam_d = float(theory.length_constant(DAUGHTERS[k], G, RA))
        electrotonic = np.where(in_parent, along / lam_p,
                                PARENT_LENGTH / lam_p + (along - PARENT_LENGTH) / lam_d)
        right.plot(electrotonic[::4], v[nodes][::4], "o", ms=3,
                   label=f"path through the {DAUGHTERS[k]:g} µm daughter (simulated)")
    right.set_xlabel("electrotonic distance from the root (units of λ)")
    right.set_ylabel("steady depolarisation (mV)")
    right.set_title(f"simulated R_in {v[0] / AMP:.0f} MΩ")
    right.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return [plotting.save(fig, Path(outdir) / "10_rall_equivalent_cylinder.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""Conduction velocity against diameter: myelinated fibres grow as d, unmyelinated as sqrt(d).

Left: single-cable myelinated fibres (``hc.myelinated_fibre``: g-ratio 0.7, internodes 100
diameters long, 1 µm nodes with HH kinetics and nodal densities) and unmyelinated HH axons,
both with the squid membrane at 6.3 °C and Ra 35.4 Ω·cm, so only the myelin differs.  The
myelinated velocities follow a straight line through the origin (Rushton 1951: a fibre
whose every length scales with its diameter conducts proportionally faster); the
unmyelinated follow the square-root law (``hhcable.theory.unmyelinated_velocity``,
scaled from one simulated axon).  The laws cross at a diameter below which myelin does not
pay.  Rushton (1951) estimated about 1 µm, Waxman & Bennett (1972) about 0.2 µm (the
smallest myelinated fibres of the CNS); this squid-membrane model puts it near
0.1 µm, nearer Waxman & Bennett's figure.  The crossover depends on the membrane and the
node geometry (Rushton's 1 µm used frog-like nodes and a velocity ratio he set from data),
so it is a model's number, not a law.

Right: the MRG fibre (``hc.mrg_fibre``, mammalian node at 37 °C) over its published range
of diameters, beside Hursh's (1939) 6 m/s per µm of fibre diameter.

Run ``python examples/27_myelin_velocity.py [FOLDER]`` to write ``27_myelin_velocity.png``
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
MYELINATED = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0)  # fibre diameters, µm
BARE = (0.5, 2.0, 10.0)  # axon diameters, µm
MRG_DIAMS = (5.7, 8.7, 11.5, 14.0, 16.0)  # µm
HURSH_M_S_PER_UM = 6.0
CELSIUS, RA, DT = 6.3, 35.4, 0.01  # °C, Ω·cm, ms


def myelinated_velocities():
    """Node-to-node velocity (m/s) of each single-cable fibre."""
    out = []
    for d in MYELINATED:
        fibre = hc.myelinated_fibre(diam=d, n_nodes=41, internode_segments=5, celsius=CELSIUS, Ra=RA)
        sim = hc.Simulation(fibre.cell, dt=DT)
        sim.iclamp(at=fibre.node(0), delay=0.1, dur=0.1, amp=2.0 * d)
        sim.record_crossings(0.0)
        out.append(hc.node_velocity(sim.run(10.0), fibre)["cv_m_s"])
    return np.array(out)


def bare_velocities():
    """Velocity (m/s) of unmyelinated HH axons, 6 resting length constants long."""
    out = []
    for d in BARE:
        length = 6 * float(theory.length_constant(d, 0.0003, RA))
        cell = hc.Cell(hc.Morphology.cable(length=length, diam=d), Ra=RA, celsius=CELSIUS, max_segment=length / 200)
        cell.insert(hc.HH())
        sim = hc.Simulation(cell, dt=DT)
        sim.iclamp(at=0.0, delay=0.1, dur=0.2, amp=d**1.5)
        sim.record_crossings(0.0)
        out.append(hc.conduction_velocity(sim.run(25.0), start=0.3, stop=0.7)["cv_m_s"])
    return np.array(out)


def mrg_velocities():
    out = []
    for d in MRG_DIAMS:
        fibre = hc.mrg_fibre(diam=d, n_nodes=21)
        sim = hc.Simulation(fibre.cell, dt=0.005, v_init=-80.0)
        sim.iclamp(at=fibre.node(0), delay=0.1, dur=0.1, amp=2.0)
        sim.record_crossings(0.0)
        out.append(hc.node_velocity(sim.run(3.0), fibre)["cv_m_s"])
    return np.array(out)


def laws(myelinated, bare):
    """Fitted exponent of the myelinated velocities (fibres of 2 µm and more), the square-root
    law through the simulated bare axons, and the diameter (µm) where the two cross."""
    big = np.array(MYELINATED) >= 2.0
    exponent = np.polyfit(np.log(np.array(MYELINATED)[big]), np.log(myelinated[big]), 1)[0]
    slope = float(np.mean(myelinated[big] / np.array(MYELINATED)[big]))  # m/s per µm
    ref = (float(bare[-1]), BARE[-1], RA)
    bare_law = lambda d: theory.unmyelinated_velocity(d, Ra=RA, reference=ref)  # noqa: E731
    crossover = float((bare_law(1.0) / slope) ** 2)
    return exponent, slope, bare_law, crossover


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    myelinated, bare, mrg = myelinated_velocities(), bare_velocities(), mrg_velocities()
    exponent, slope, bare_law, crossover = laws(myelinated, bare)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    d = np.geomspace(0.05, 25.0, 100)
    left.loglog(d, slope * d, "C0-", lw=1, label=f"{slope:.2f} m/s per µm (fit exponent {exponent:.2f})")
    left.loglog(MYELINATED, myelinated, "C0o", label="myelinated (fibre diameter)")
    left.loglog(d, bare_law(d), "C1-", lw=1, label="sqrt law")
    left.loglog(BARE, bare, "C1s", label="unmyelinated (axon diameter)")
    left.axvline(crossover, color="0.5", ls="--", lw=1, label=f"crossover {crossover:.2f} µm")
    left.set_xlabel("diameter (µm)")
    left.set_ylabel("conduction velocity (m/s)")
    left.set_title(f"HH membrane, {CELSIUS:g} °C")
    left.legend(frameon=False, fontsize="x-small")
    dd = np.linspace(0.0, 17.0, 2)
    right.plot(dd, HURSH_M_S_PER_UM * dd, "k--", lw=1, label="Hursh 1939: 6 m/s per µm")
    right.plot(MRG_DIAMS, mrg, "o", label="MRG fibre, 37 °C")
    right.set_xlabel("fibre diameter (µm)")
    right.set_ylabel("conduction velocity (m/s)")
    right.set_title("mammalian fibres (McIntyre et al. 2002)")
    right.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    print(f"myelinated exponent {exponent:.3f}, slope {slope:.3f} m/s/µm, crossover {crossover:.3f} µm; "
          f"MRG {dict(zip(MRG_DIAMS, np.round(mrg, 1)))}")
    return [plotting.save(fig, Path(outdir) / "27_myelin_velocity.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""The compound action potential of a nerve of two fibre populations.

A nerve of 200 myelinated fibres (single-cable fibres, HH nodes at 20 °C): 140 thin
(3 µm, Aδ-like) and 60 thick (10 µm, Aβ-like), each diameter drawn from a narrow normal
distribution, at random places in a nerve of 250 µm radius, with random offsets of their
nodes along it.  All are excited at their start at once (a supramaximal shock) and run as
one batch; two point electrodes on the nerve's surface, 10 and 25 mm along, record the sum
of every fibre's extracellular spike: the compound action potential (CAP).  The fast fibres
make the first wave, the slow ones the second; each wave's latency from one electrode to the
other gives its velocity, which matches the velocities of the fibres themselves (node to node).

Run ``python examples/31_compound_action_potential.py [FOLDER]`` to write
``31_compound_action_potential.png`` into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.signal import find_peaks  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import plotting  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

#: (name, number of fibres, mean and standard deviation of the fibre diameter in µm)
POPULATIONS = (("thin (Aδ-like)", 140, 3.0, 0.2), ("thick (Aβ-like)", 60, 10.0, 0.6))
NERVE_RADIUS = 250.0  # µm
ELECTRODES = (10_000.0, 25_000.0)  # µm along the nerve, on its surface
NERVE_LENGTH = 28_000.0  # µm: every fibre is at least this long
CELSIUS, DT, TSTOP = 20.0, 0.01, 4.5  # °C, ms, ms
#: Diameters are drawn to this step (µm), so fibres of one diameter share one Cell (a Cell is
#: only read by the simulations that use it): 200 fibres need about 40 cells.
DIAM_STEP = 0.1
STIMULUS = dict(delay=0.1, dur=0.1, amp=5.0)  # ms, ms, nA at each fibre's first node


def nerve(seed=1):
    """The fibres' simulations, their diameters (µm) and population index, recording both electrodes."""
    rng = np.random.default_rng(seed)
    sims, diams, population, built = [], [], [], {}
    for k, (_, count, mean, sd) in enumerate(POPULATIONS):
        for diam in np.round(rng.normal(mean, sd, count) / DIAM_STEP) * DIAM_STEP:
            spacing = hc.fibres.INTERNODE_PER_DIAMETER * diam
            if diam not in built:
                built[diam] = hc.myelinated_fibre(diam=diam, n_nodes=int(np.ceil(NERVE_LENGTH / spacing)) + 2,
                                                  celsius=CELSIUS, internode_segments=3)
            fibre = built[diam]
            # A place in the nerve's cross-section, and where its nodes fall along it.
            radius, angle = NERVE_RADIUS * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
            offset = rng.uniform(0, spacing)
            sim = hc.Simulation(fibre.cell, dt=DT)
            sim.stimulate(hc.IClamp(**STIMULUS), at=fibre.node(0))
            for j, x in enumerate(ELECTRODES):
                electrode = hc.PointElectrode(x - offset, NERVE_RADIUS - radius * np.cos(angle),
                                              radius * np.sin(angle))
                sim.record_extracellular(f"electrode {j}", electrode.weights(fibre.cell))
            sim.record_crossings(0.0)
            sims.append((sim, fibre))
            diams.append(diam)
            population.append(k)
    return sims, np.array(diams), np.array(population)


def waves(t, cap, n=2):
    """Times (ms) of the ``n`` deepest troughs of a CAP (mV), in time order."""
    troughs, props = find_peaks(-cap, prominence=0.02 * np.abs(cap).max())
    deepest = troughs[np.argsort(props["prominences"])[-n:]]
    return np.sort(t[deepest])


def simulate(seed=1):
    """Run the nerve; returns (t, CAP at each electrode, fibre velocities m/s, diameters, populations, wave velocities)."""
    sims, diams, population = nerve(seed)
    results = hc.Batch([s for s, _ in sims]).run(TSTOP)
    t = results[0].t
    caps = [sum(r[f"electrode {j}"] for r in results) for j in range(len(ELECTRODES))]
    own = np.array([hc.node_velocity(r, f)["cv_m_s"] for r, (_, f) in zip(results, sims)])
    delay = waves(t, caps[1]) - waves(t, caps[0])  # ms: the fast wave first, then the slow one
    from_cap = (ELECTRODES[1] - ELECTRODES[0]) / delay * hc.units.M_S_PER_UM_MS
    return t, caps, own, diams, population, from_cap[::-1]  # slow (thin) population first


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    t, caps, own, diams, population, from_cap = simulate()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2, 1]})
    for j, (x, cap) in enumerate(zip(ELECTRODES, caps)):
        left.plot(t, cap * 1e3, color=f"C{j}", label=f"electrode at {x / 1e3:g} mm")
        for w in waves(t, cap):
            left.axvline(w, color=f"C{j}", lw=0.6, ls=":")
    left.axvspan(STIMULUS["delay"], STIMULUS["delay"] + STIMULUS["dur"], color=plotting.STIMULUS_COLOUR,
                 alpha=0.3, lw=0, gid=plotting.STIMULUS_GID, label="shock at every fibre's start")
    left.set_xlabel("time (ms)")
    left.set_ylabel("compound action potential (µV)")
    left.set_title(f"{len(diams)} myelinated fibres, {CELSIUS:g} °C", fontsize="medium")
    left.legend(frameon=False, fontsize="small")
    for k, (name, *_ ) in enumerate(POPULATIONS):
        mine = population == k
        right.plot(diams[mine], own[mine], ".", color=f"C{k + 2}", label=f"{name}: fibres' own")
        right.plot([diams[mine].mean()], [from_cap[k]], "*", ms=14, mec="k", color=f"C{k + 2}",
                   label=f"from the CAP: {from_cap[k]:.1f} m/s (fibres {own[mine].mean():.1f})")
    right.set_xlabel("fibre diameter (µm)")
    right.set_ylabel("conduction velocity (m/s)")
    right.legend(frameon=False, fontsize="x-small", loc="upper left")
    fig.tight_layout()
    return [plotting.save(fig, Path(outdir) / "31_compound_action_potential.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

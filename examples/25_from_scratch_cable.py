"""An HH cable from scratch in about 40 lines of numpy, beside the real engine.

``hh_cable`` below is everything a simulator of a spiking axon needs, written to be read and
ported: the HH rate functions (Hodgkin & Huxley 1952, NEURON's convention), compartments of
equal length with sealed ends, gates advanced by exponential Euler, and the voltage by
backward Euler, which for an unbranched cable is one tridiagonal solve per step.  It computes
the same spike as ``hhcable`` (whose solver adds trees, tapering, Crank–Nicolson, many
channels and a compiled kernel); the figure shows both, and the test suite checks that their
conduction velocities agree.

Run ``python examples/25_from_scratch_cable.py [FOLDER]`` to write ``25_from_scratch_cable.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.linalg import solve_banded  # noqa: E402

import hhcable as hc  # noqa: E402
import hhcable.plotting as hp  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

LENGTH, DIAM, N = 5000.0, 2.0, 250  # µm, µm, compartments
RA, CM = 35.4, 1.0  # Ω·cm, µF/cm²
DT, TSTOP = 0.01, 12.0  # ms
STIM = (0.5, 0.5, 1.0)  # delay (ms), duration (ms), amplitude (nA) into the first compartment


def vtrap(x, y):  # x / (exp(x/y) - 1), finite at x = 0
    return np.where(np.abs(x / y) < 1e-6, y * (1 - x / y / 2), x / np.expm1(x / y))


def rates(v):  # (alpha, beta) of m, h, n in 1/ms at 6.3 °C
    return {"m": (0.1 * vtrap(-(v + 40), 10), 4 * np.exp(-(v + 65) / 18)),
            "h": (0.07 * np.exp(-(v + 65) / 20), 1 / (np.exp(-(v + 35) / 10) + 1)),
            "n": (0.01 * vtrap(-(v + 55), 10), 0.125 * np.exp(-(v + 65) / 80))}


def hh_cable(length=LENGTH, diam=DIAM, n=N, dt=DT, tstop=TSTOP, stim=STIM):
    """Voltage (mV) of every compartment at every step: (t ms, V with shape (steps + 1, n))."""
    dx = length / n
    area = np.pi * diam * dx  # µm²
    c = CM * area * 1e-5  # nF
    g_ax = np.pi * diam**2 / (4 * RA * dx) * 100  # µS between neighbours
    gbar = {"na": 0.12 * area * 1e-2, "k": 0.036 * area * 1e-2, "l": 0.0003 * area * 1e-2}  # µS
    e = {"na": 50.0, "k": -77.0, "l": -54.3}  # mV
    v = np.full(n, -65.0)
    gates = {x: a / (a + b) for x, (a, b) in rates(v).items()}
    coupling = np.full(n, 2 * g_ax)
    coupling[[0, -1]] = g_ax  # sealed ends: one neighbour
    band = np.zeros((3, n))
    band[0, 1:] = band[2, :-1] = -g_ax
    t = np.arange(int(round(tstop / dt)) + 1) * dt
    out = [v.copy()]
    for k in range(1, len(t)):
        for x, (a, b) in rates(v).items():  # exponential Euler: exact for fixed v
            inf, tau = a / (a + b), 1 / (a + b)
            gates[x] = inf + (gates[x] - inf) * np.exp(-dt / tau)
        g = {"na": gbar["na"] * gates["m"] ** 3 * gates["h"], "k": gbar["k"] * gates["n"] ** 4, "l": gbar["l"]}
        i_stim = np.zeros(n)
        i_stim[0] = stim[2] if stim[0] <= t[k - 1] < stim[0] + stim[1] else 0.0
        band[1] = c / dt + coupling + sum(g.values())
        v = solve_banded((1, 1), band, c / dt * v + sum(g[i] * e[i] for i in g) + i_stim)
        out.append(v)
    return t, np.array(out)


def engine_cable(length=LENGTH, diam=DIAM, n=N, dt=DT, tstop=TSTOP, stim=STIM):
    """The same cable in hhcable: (Result with crossings, node distances µm)."""
    cell = hc.Cell(hc.Morphology.cable(length=length, diam=diam), cm=CM, Ra=RA, max_segment=length / n)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=dt)
    sim.iclamp(at=0.0, delay=stim[0], dur=stim[1], amp=stim[2])
    sim.probe("x = 0.5", at=0.5)
    sim.record_crossings(0.0)
    return sim, sim.run(tstop)


def velocity(distance, crossing, start=0.3, stop=0.7, length=LENGTH):
    """Least-squares velocity (m/s) of first crossings (ms) at distances (µm) between fractions."""
    keep = (distance >= start * length) & (distance <= stop * length)
    return np.polyfit(crossing[keep], distance[keep], 1)[0] * 1e-3


def first_crossings(t, v, threshold=0.0):
    """First upward crossing (ms) of ``threshold`` in each column of ``v``, linearly interpolated."""
    return np.array([hc.threshold_crossings(t, col, threshold)[0] for col in v.T])


def main(outdir=FIGURES):
    """Run both and write the figure; returns its path."""
    t, v = hh_cable()
    x = (np.arange(N) + 0.5) * LENGTH / N
    sim, res = engine_cable()
    ours = velocity(x, first_crossings(t, v))
    theirs = velocity(res.cell.compartments.distance, res.crossings)
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    ax.plot(t, v[:, N // 2], lw=2.5, color="0.7", label=f"from scratch, x = {x[N // 2]:.0f} µm: {ours:.3f} m/s")
    ax.plot(res.t, res["x = 0.5"], "k--", lw=1, label=f"hhcable, x = 0.5: {theirs:.3f} m/s")
    hp.plot_stimulus(ax, sim.stimuli, res.t)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(hp.LABELS["v"])
    ax.set_title(f"HH cable, {DIAM:g} µm, {N} compartments, dt {DT} ms, 6.3 °C")
    ax.legend(frameon=False, fontsize="small", loc="upper right")
    return [hp.save(fig, Path(outdir) / "25_from_scratch_cable.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

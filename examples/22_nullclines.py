"""Nullclines and the fixed point of the HH neuron in the (V, n) phase plane.

Sodium activation m is so fast that it can be set to m∞(V), and inactivation h is held at
its resting value h₀: what is left is a two-variable system in V and n (a reduction in the
spirit of FitzHugh 1961 and Rinzel 1985).  Its V-nullcline (where dV/dt = 0: the injected
current balances the ionic ones) and n-nullcline (n = n∞(V)) cross at the fixed point; with
no current the lowest one is the resting state of the full model, stable (filled); with
h frozen the plane has two more: a saddle (open) and a depolarised point, stable only
because h cannot close as it does in the full model.  With 10 µA/cm² the V-nullcline moves
up and the low fixed point loses its stability: the full model's trajectory (grey, from
``hhcable``; its h varies, so it leaves the reduced plane) winds onto a limit cycle.

Run ``python examples/22_nullclines.py [FOLDER]`` to write ``22_nullclines.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

import hhcable as hc  # noqa: E402
import hhcable.plotting as hp  # noqa: E402
from hhcable.pointneuron import PointNeuron  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

HH = hc.HH()
CM = 1.0  # µF/cm²
MA_PER_UA = 1e-3  # mA/cm² per µA/cm²
CURRENTS = (0.0, 10.0)  # µA/cm²
BRACKET = (-90.0, 60.0)  # mV, where fixed points are searched for
CELSIUS = 6.3  # °C
EPS = 1e-6  # mV and 1: the step of the Jacobian's central differences


def ionic(v, n, h):
    """Total ionic current density (mA/cm², outward +) with m = m∞(v), at given n and h."""
    v = np.asarray(v, dtype=float)
    m = HH.steady_state(v.ravel())[0].reshape(v.shape)
    states = [m, np.broadcast_to(h, v.shape), np.broadcast_to(n, v.shape)]  # the order of HH's gates
    return sum(HH.current_densities(states, v).values())


def n_inf(v):
    return HH.steady_state(np.atleast_1d(np.asarray(v, dtype=float)))[2]


def rest():
    """Resting potential (mV) of the full model: every gate at steady state, no net current."""
    def net(v):
        return float(sum(HH.current_densities(HH.steady_state(np.array([v]))[:, 0], v).values()))
    return brentq(net, *BRACKET, xtol=1e-12)


def _flow(v, n, amp, h0):
    """dV/dt (mV/ms) and dn/dt (1/ms) of the reduced system at 6.3 °C."""
    dv = (amp * MA_PER_UA - float(ionic(v, n, h0))) / CM * 1e3
    inf, tau = HH.inf_tau(np.array([v]), CELSIUS)
    return dv, float((inf[2, 0] - n) / tau[2, 0])


def fixed_points(amp, h0):
    """Every crossing of the nullclines under ``amp`` µA/cm²: a list of (V mV, n, stable).

    Crossings are bracketed on a 0.1 mV grid and polished with brentq; stability is read
    from the eigenvalues of the Jacobian (central differences of the flow).
    """
    def net(v):
        return float(ionic(v, n_inf(v)[0], h0)) - amp * MA_PER_UA

    grid = np.arange(*BRACKET, 0.1)
    values = np.array([net(v) for v in grid])
    out = []
    for k in np.flatnonzero(np.sign(values[:-1]) != np.sign(values[1:])):
        v = brentq(net, grid[k], grid[k + 1], xtol=1e-12)
        n = float(n_inf(v)[0])
        d_dv = np.subtract(_flow(v + EPS, n, amp, h0), _flow(v - EPS, n, amp, h0)) / (2 * EPS)
        d_dn = np.subtract(_flow(v, n + EPS, amp, h0), _flow(v, n - EPS, amp, h0)) / (2 * EPS)
        jac = np.column_stack([d_dv, d_dn])  # rows: dV/dt, dn/dt; columns: ∂/∂V, ∂/∂n
        out.append((v, n, bool(np.all(np.linalg.eigvals(jac).real < 0))))
    return out


def main(outdir=FIGURES):
    """Write the figure; returns its path."""
    h0 = float(HH.steady_state(np.array([rest()]))[1, 0])
    vv, nn = np.meshgrid(np.linspace(-85.0, 45.0, 300), np.linspace(0.2, 1.0, 300))
    neuron = PointNeuron()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    for ax, amp in zip(axes, CURRENTS):
        dv = (amp * MA_PER_UA - ionic(vv, nn, h0)) / CM * 1e3  # mV/ms
        ax.contour(vv, nn, dv, levels=[0.0], colors="C0")
        ax.plot(vv[0], n_inf(vv[0]), "C1")
        res = neuron.step(amp=amp * neuron.nA_per_uA_cm2(), delay=0.0, dur=60.0, tstop=60.0, record=("v", "n"))
        ax.plot(res["v"], res["n"], color="0.6", lw=0.8, label="full model, 60 ms")
        ax.plot(res["v"][0], res["n"][0], "v", color=hp.STIMULUS_COLOUR, ms=9, mec="k", gid=hp.STIMULUS_GID,
                label=f"start: {amp:g} µA/cm² switched on")
        for i, (v_fp, n_fp, stable) in enumerate(fixed_points(amp, h0)):
            ax.plot(v_fp, n_fp, "o", color="k", mfc="k" if stable else "w", ms=7, zorder=5,
                    label=f"fixed point {v_fp:.1f} mV, {'stable' if stable else 'unstable'}")
        ax.plot([], [], "C0", label="V-nullcline (dV/dt = 0)")
        ax.plot([], [], "C1", label="n-nullcline (n = n∞)")
        ax.set_xlabel(hp.LABELS["v"])
        ax.set_ylabel(hp.LABELS["n"])
        ax.set_ylim(0.2, 1.0)
        ax.set_title(f"I = {amp:g} µA/cm², m = m∞(V), h = {h0:.3f}")
        ax.legend(frameon=False, fontsize="small", loc="upper left")
    return [hp.save(fig, Path(outdir) / "22_nullclines.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

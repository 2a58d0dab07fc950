"""The voltage-clamp experiment of Hodgkin and Huxley, and I_Na separated from I_K.

Under a voltage clamp the membrane potential is held at a command value V_c, so each gate
relaxes exponentially from its resting value towards x∞(V_c) with time constant τ(V_c):
``x(t) = x∞ − (x∞ − x₀) exp(−t/τ)`` (Hodgkin & Huxley 1952, eqs. 7–9 and 18–20).  The
clamp amplifier supplies exactly the ionic current (the capacitive current flows only at the
step), which is what was measured: an early inward (negative) sodium current and a late,
sustained outward potassium current.  Hodgkin and Huxley separated the two by replacing the
sodium outside (Hodgkin & Huxley 1952a); today one blocks the sodium channels with
tetrodotoxin (TTX): the current left with TTX is I_K + I_L, and the total minus it is I_Na.
At V_c = E_Na (+50 mV) the sodium current vanishes whatever its conductance.

Run ``python examples/21_voltage_clamp.py [FOLDER]`` to write ``21_voltage_clamp.png``
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

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

HOLD = -65.0  # mV, holding potential (rest)
COMMANDS = (-40.0, -20.0, 0.0, 20.0, 50.0)  # mV
SHOWN = 0.0  # mV, the step drawn on the left
CELSIUS = 6.3  # °C
T = np.linspace(0.0, 10.0, 1001)  # ms after the step
UA_PER_MA = 1e3


def clamp(v_c, t=T, hold=HOLD, channel=None, celsius=CELSIUS):
    """Ionic current densities (µA/cm², outward +) after a step from ``hold`` to ``v_c`` (mV).

    Returns a dict of ``ina``, ``ik``, ``il`` (and ``total``) over ``t`` (ms).
    """
    channel = hc.HH() if channel is None else channel
    x0 = channel.steady_state(np.array([hold]))[:, 0]
    inf, tau = channel.inf_tau(np.array([v_c]), celsius)
    gates = inf - (inf - x0[:, None]) * np.exp(-np.asarray(t)[None, :] / tau)
    out = {k: UA_PER_MA * np.asarray(i) for k, i in channel.current_densities(gates, np.full(len(t), v_c)).items()}
    out["total"] = sum(out.values())
    return out


def main(outdir=FIGURES):
    """Write the figure; returns its path."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    cur = clamp(SHOWN)
    ttx = clamp(SHOWN, channel=hc.HH(gnabar=0.0))
    left.plot(T, cur["total"], "k", lw=2, label="total (what the clamp measures)")
    left.plot(T, ttx["total"], "C1", label="with TTX: I_K + I_L")
    left.plot(T, cur["total"] - ttx["total"], "C0", label="difference: I_Na")
    left.axhline(0.0, color="0.7", lw=0.6)
    twin = left.twinx()
    twin.plot([-1.0, 0.0, 0.0, T[-1]], [HOLD, HOLD, SHOWN, SHOWN], color=hp.STIMULUS_COLOUR, lw=1,
              gid=hp.STIMULUS_GID)
    twin.set_ylim(HOLD - 20, SHOWN + 250)
    twin.set_ylabel("command voltage (mV)", color=hp.STIMULUS_COLOUR)
    left.set_xlim(-1.0, T[-1])
    left.set_xlabel("time after the step (ms)")
    left.set_ylabel("membrane current density (µA/cm², outward +)")
    left.set_title(f"step from {HOLD:g} to {SHOWN:g} mV")
    left.legend(frameon=False, fontsize="small", loc="lower right")
    for i, v_c in enumerate(COMMANDS):
        c = clamp(v_c)
        right.plot(T, c["ina"], color=f"C{i}", label=f"I_Na, {v_c:+g} mV")
        right.plot(T, c["ik"], color=f"C{i}", ls="--")
    right.axhline(0.0, color="0.7", lw=0.6)
    right.set_xlabel("time after the step (ms)")
    right.set_ylabel("current density (µA/cm², outward +)")
    right.set_title("I_Na (solid) and I_K (dashed); I_Na = 0 at E_Na")
    right.legend(frameon=False, fontsize="small", ncol=2, loc="center right")
    return [hp.save(fig, Path(outdir) / "21_voltage_clamp.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

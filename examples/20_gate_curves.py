"""The HH gates: steady states m∞, h∞, n∞ and time constants τ against voltage.

Each gate x relaxes towards x∞(V) = α/(α+β) with time constant τ(V) = 1/(α+β), both
functions of the membrane potential only (Hodgkin & Huxley 1952, eqs. 7–15, in NEURON's
convention: rest -65 mV).  m is fast and opens with depolarisation; h and n are about ten
times slower, h closing and n opening.  The rates are those of ``hhcable.HH`` itself; at
rest they give the resting gates of the 1952 paper (m 0.0529, h 0.5961, n 0.3177).

Run ``python examples/20_gate_curves.py [FOLDER]`` to write ``20_gate_curves.png``
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

V = np.linspace(-100.0, 50.0, 601)  # mV
REST = -65.0  # mV
CELSIUS = 6.3  # °C, where the rates were measured


def gates(v=V, celsius=CELSIUS):
    """Steady states (0–1) and time constants (ms) of m, h, n at ``v`` (mV): two dicts."""
    inf, tau = hc.HH().inf_tau(np.asarray(v, dtype=float), celsius)
    return dict(zip("mhn", inf)), dict(zip("mhn", tau))


def main(outdir=FIGURES):
    """Write the figure; returns its path."""
    inf, tau = gates()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for name in "mhn":
        left.plot(V, inf[name], label=f"{name}∞")
        right.plot(V, tau[name], label=f"τ_{name}")
    for ax in (left, right):
        ax.axvline(REST, color="0.6", ls=":", lw=1)
        ax.set_xlabel(hp.LABELS["v"])
        ax.legend(frameon=False)
    left.set_ylabel("steady state (0–1)")
    left.set_title("open fraction at steady state")
    right.set_ylabel(f"time constant at {CELSIUS} °C (ms)")
    right.set_title("how fast each gate follows V")
    return [hp.save(fig, Path(outdir) / "20_gate_curves.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""Current steps and the f–I curve of the HH point neuron.

Steps from 0 to 40 µA/cm² (all simulated together as one batch).  The HH neuron is "type II":
it does not fire repetitively below about 6.3 µA/cm² and then starts at about 50 Hz, not
from zero; between 6.3 and 9.8 µA/cm² rest and repetitive firing coexist, and a step from
rest may fire a few spikes and stop.

Run ``python examples/04_fi_curve.py [FOLDER]`` to write ``04_fi_curve.png``
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
from hhcable.pointneuron import PointNeuron, fi_curve  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

DENSITIES = np.arange(0.0, 40.5, 1.0)  # µA/cm²
SHOWN = (3.0, 8.0, 20.0)  # µA/cm², traces drawn on the left


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    neuron = PointNeuron()
    per_ua = neuron.nA_per_uA_cm2()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for density in SHOWN:
        res = neuron.step(amp=density * per_ua, delay=5.0, dur=60.0, tstop=70.0, dt=0.025, record=("v",))
        left.plot(res.t, res["v"], lw=1, label=f"{density:g} µA/cm²")
    left.set_xlabel("time (ms)")
    left.set_ylabel(hp.LABELS["v"])
    left.legend(frameon=False, fontsize="small", loc="upper right")
    hp.plot_stimulus(left, [hc.IClamp(5.0, 60.0, max(SHOWN))], res.t, unit="µA/cm², largest")
    out = fi_curve(neuron, DENSITIES * per_ua, dur=200.0)
    right.plot(DENSITIES, out["rate_hz"], "o-", ms=3)
    right.set_xlabel("step current density (µA/cm²)")
    right.set_ylabel("sustained firing rate (Hz)")
    right.set_title("f–I curve (rate after the first 50 ms of a 200 ms step)")
    fig.tight_layout()
    return [hp.save(fig, Path(outdir) / "04_fi_curve.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

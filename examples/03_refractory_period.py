"""Double pulse and the refractory period of the HH point neuron.

A first pulse fires a spike; a second pulse of the same strength a few milliseconds later
fails (left).  The right panel finds, for each interval, the smallest second pulse that fires
(a bisection per interval, all intervals simulated together): none up to the search limit
in the absolute refractory period, more than the first pulse needed in the relative one.

Run ``python examples/03_refractory_period.py [FOLDER]`` to write ``03_refractory_period.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hhcable.plotting as hp  # noqa: E402
from hhcable.pointneuron import PointNeuron, recovery_threshold, threshold_current  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

DUR = 0.5  # ms, each pulse
INTERVALS = np.array([2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 25.0])  # ms


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    neuron = PointNeuron()
    single = threshold_current(neuron, DUR)
    amp = 2 * single
    max_amp = 20 * single
    per_ua = neuron.nA_per_uA_cm2()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.2))
    twin = None
    for i, interval in enumerate((15.0, 5.0)):
        sim = neuron.simulation(dt=0.025, record=("v",))
        sim.pulse_train(at=0.5, delay=2.0, dur=DUR, amp=amp, interval=interval, number=2)
        res = sim.run(2.0 + 15.0 + 15.0)
        left.plot(res.t, res["v"], color=f"C{i}", label=f"pulses {interval:g} ms apart")
        twin = hp.plot_stimulus(left, sim.stimuli, res.t, scale=1 / per_ua, unit="µA/cm²", twin=twin,
                                colour=f"C{i}")
    left.set_xlabel("time (ms)")
    left.set_ylabel(hp.LABELS["v"])
    left.set_title(f"two pulses of {amp / per_ua:.1f} µA/cm² ({DUR} ms), twice threshold")
    left.legend(frameon=False, fontsize="small", loc="upper right")
    second = recovery_threshold(neuron, INTERVALS, amp=amp, dur=DUR, max_amp=max_amp)
    right.semilogy(INTERVALS, second / single, "o-", label="second-pulse threshold")
    blocked = np.isnan(second)
    right.semilogy(INTERVALS[blocked], np.full(blocked.sum(), max_amp / single), "kx",
                   label=f"none up to {max_amp / single:.0f}x (absolute)")
    right.axhline(1.0, color="0.6", ls="--", label="single-pulse threshold")
    right.set_xlabel("interval between pulse onsets (ms)")
    right.set_ylabel("threshold / single-pulse threshold (ratio)")
    dip = np.nanargmin(second)
    if second[dip] < single:
        right.annotate("supernormal: h above, n below rest\n(the membrane's damped oscillation)",
                       (INTERVALS[dip], second[dip] / single), xytext=(0.35, 0.12), textcoords="axes fraction",
                       fontsize="small", arrowprops={"arrowstyle": "->", "color": "0.4"})
    right.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return [hp.save(fig, Path(outdir) / "03_refractory_period.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

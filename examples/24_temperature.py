"""Temperature and the spike: faster gates give a briefer, smaller spike, a faster one, then none.

Every rate of the HH channel is multiplied by φ = 3^((T − 6.3)/10) (Q10 = 3 from 6.3 °C;
Hodgkin & Huxley 1952, p. 519).  Warming shortens every gate's time constant by the same
factor but leaves the membrane's own time constant (Rm·cm) alone, so the spike is briefer
and, because sodium inactivation and potassium activation now catch up with sodium
activation before the capacitor is charged, smaller.  Left: the point neuron's spike at
6.3, 18.5 and 25 °C after the same brief pulse.  Middle: its amplitude and width at half
amplitude against temperature.  Right: the conduction velocity of the lab's 1 µm HH axon
(:func:`hhcable.lab.experiments.axon`) against temperature: it rises while the gates speed up,
levels off, and then the spike dies out before the far end (heat block, shaded), too small
and brief to excite the axon ahead.  The block temperature is this model's, found by
bisection: the model's Q10 of 3 for every rate and its temperature-independent conductances
are a simplification, so it is not a prediction for a real axon.

Run ``python examples/24_temperature.py [FOLDER]`` to write ``24_temperature.png`` into
FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hhcable.plotting as hp  # noqa: E402
from hhcable.lab import experiments as E  # noqa: E402
from hhcable.pointneuron import PointNeuron  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

SHOWN_CELSIUS = (6.3, 18.5, 25.0)  # °C: the paper's, the propagated spike's, a warm one
DELAY, DUR, AMP = 1.0, 0.5, 40.0  # ms, ms, µA/cm²: above threshold at every temperature shown
TSTOP = 12.0  # ms
DT = 0.005  # ms
POINT_CELSIUS = np.arange(4.0, 28.5, 1.0)  # °C (the pulse no longer excites above about 29 °C)
AXON_DIAM = 1.0  # µm
AXON_CELSIUS = np.arange(4.0, 33.0, 2.0)  # °C
BLOCK_TOLERANCE = 0.05  # °C: the bisection stops when the bracket is this narrow


def spike(celsius, dt=DT):
    """The point neuron's response to the pulse at ``celsius`` (°C); returns (Simulation, Result, PointNeuron)."""
    neuron = PointNeuron(celsius=celsius)
    sim = neuron.simulation(dt=dt)
    sim.iclamp(at=0.5, delay=DELAY, dur=DUR, amp=AMP * neuron.nA_per_uA_cm2())
    return sim, sim.run(TSTOP), neuron


def shape(t, v, rest):
    """Amplitude (mV above ``rest``) and width at half amplitude (ms) of the largest peak of ``v``.

    Returns (nan, nan) when ``v`` never crosses 0 mV (no spike).
    """
    if v.max() < 0.0:
        return np.nan, np.nan
    amplitude = float(v.max() - rest)
    above = np.flatnonzero(v >= rest + amplitude / 2)
    first, last = above[0], above[-1]
    # Linear interpolation of the two crossings of half amplitude.
    half = rest + amplitude / 2
    up = t[first - 1] + (half - v[first - 1]) / (v[first] - v[first - 1]) * (t[first] - t[first - 1])
    down = t[last] + (half - v[last]) / (v[last + 1] - v[last]) * (t[last + 1] - t[last])
    return amplitude, float(down - up)


def velocity(celsius):
    """Conduction velocity (m/s) of the lab's axon at ``celsius`` (°C); nan when it fails."""
    cv = E.axon(diam=AXON_DIAM, celsius=float(celsius)).numbers["cv_m_s"]
    return np.nan if cv is None else cv


def heat_block(low, high, tolerance=BLOCK_TOLERANCE):
    """Bisect the temperature (°C) between ``low`` (conducts) and ``high`` (fails) where conduction fails."""
    while high - low > tolerance:
        mid = 0.5 * (low + high)
        low, high = (mid, high) if np.isfinite(velocity(mid)) else (low, mid)
    return 0.5 * (low + high)


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    fig, (ax_v, ax_s, ax_c) = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
    for celsius in SHOWN_CELSIUS:
        sim, res, neuron = spike(celsius)
        ax_v.plot(res.t, res["v"], label=f"{celsius:g} °C")
    hp.plot_stimulus(ax_v, sim.stimuli, res.t, scale=1 / neuron.nA_per_uA_cm2(), unit="µA/cm²")
    ax_v.set_xlabel("time (ms)")
    ax_v.set_ylabel("membrane potential (mV)")
    ax_v.set_title(f"point neuron, {AMP:g} µA/cm² for {DUR:g} ms")
    ax_v.legend(frameon=False, loc="upper right")

    shapes = np.array([shape(res.t, res["v"], neuron.rest)
                       for res, neuron in (spike(c)[1:] for c in POINT_CELSIUS)])
    ax_s.plot(POINT_CELSIUS, shapes[:, 0], "o-", ms=3, color="C0")
    ax_s.set_xlabel("temperature (°C)")
    ax_s.set_ylabel("spike amplitude above rest (mV)", color="C0")
    ax_w = ax_s.twinx()
    ax_w.plot(POINT_CELSIUS, shapes[:, 1], "s--", ms=3, color="C3")
    ax_w.set_ylabel("width at half amplitude (ms)", color="C3")
    ax_s.set_title("the spike shrinks and narrows")

    cv = np.array([velocity(c) for c in AXON_CELSIUS])
    conducts = np.isfinite(cv)
    last = int(np.flatnonzero(conducts)[-1])
    block = heat_block(AXON_CELSIUS[last], AXON_CELSIUS[last + 1])
    ax_c.plot(AXON_CELSIUS[conducts], cv[conducts], "o-", ms=3)
    ax_c.axvspan(block, AXON_CELSIUS[-1], color="0.9")
    ax_c.text(block, np.nanmin(cv), f"heat block\nabove {block:.1f} °C ", ha="right", va="bottom", fontsize="small",
              color="0.3")
    ax_c.set_xlabel("temperature (°C)")
    ax_c.set_ylabel("conduction velocity (m/s)")
    ax_c.set_title(f"{AXON_DIAM:g} µm HH axon")
    return [hp.save(fig, Path(outdir) / "24_temperature.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""Writing a channel: the A-current and type I excitability (Connor–Stevens).

A channel is a short class: parameters with units, gates as functions of v, and the current
written once.  Here the transient A-type potassium current of Connor, Walter & McKown (1977)
is written out as a user would (it is also in the library as ``hc.channels.KACS``), then
inserted with the model's sodium and delayed-rectifier channels in an isopotential
compartment.  The Connor–Stevens cell starts firing at low rates that rise smoothly with
the current (type I excitability, Dayan & Abbott 2001, section 6.2: the A-current delays
each spike); the HH cell fires nothing below about 6 µA/cm² and then about 50 Hz at once
(type II, example 04).  The same description runs on the numpy loop and the compiled numba
kernel.

Run ``python examples/14_write_a_channel.py [FOLDER]`` to write ``14_write_a_channel.png``
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


class KA(hc.Channel):
    """Transient A-type potassium current, ``gkabar a³b (v - ea)`` (Connor et al. 1977)."""

    name = "my_ka"
    parameters = {
        "gkabar": hc.Param(0.0477, "S/cm²", "maximal conductance", min=0.0),
        "ea": hc.Param(-75.0, "mV", "reversal potential"),
    }
    currents = {"ika": hc.ohmic("ea", lambda gkabar, a, b: gkabar * a**3 * b)}

    @hc.inf_tau
    def a(v):
        inf = np.cbrt(0.0761 * np.exp(0.0314 * (v + 94.22)) / (1.0 + np.exp(0.0346 * (v + 1.17))))
        return inf, 0.3632 + 1.158 / (1.0 + np.exp(0.0497 * (v + 55.96)))

    @hc.inf_tau
    def b(v):
        return (1.0 / (1.0 + np.exp(0.0688 * (v + 53.3)))) ** 4, 1.24 + 2.678 / (1.0 + np.exp(0.0624 * (v + 50.0)))


#: Membrane area (µm²) of the compartment: 1e5 µm², so 1 nA is 1 µA/cm².
AREA = 1e5
DENSITIES = np.arange(0.0, 16.01, 0.25)  # µA/cm², step currents
SHOWN = 8.5  # µA/cm², the traces on the left
DELAY, DUR = 20.0, 1000.0  # ms


def compartment(model, amp):
    """An isopotential compartment with the Connor–Stevens ("cs") or HH ("hh") channels, and a step."""
    diam = float(np.sqrt(AREA / np.pi))  # a cylinder as long as wide has area π d²
    cell = hc.Cell(hc.Morphology.cable(diam, diam), max_segment=2 * diam)
    if model == "cs":
        for channel in (hc.channels.NaCS(), hc.channels.KdrCS(), KA(), hc.Passive(g=3e-4, e=-17.0)):
            cell.insert(channel)
    else:
        cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.025, v_init=-68.0 if model == "cs" else -65.0)
    sim.iclamp(at=0.5, delay=DELAY, dur=DUR, amp=amp)
    sim.probe("v", at=0.5)
    return sim


def rates(model):
    """Firing rate (Hz) over the second half of each step, all steps run as one batch."""
    results = hc.Batch([compartment(model, amp) for amp in DENSITIES]).run(DELAY + DUR)
    out = []
    for res in results:
        spikes = hc.spike_times(res.t, res["v"])
        late = spikes[spikes > DELAY + DUR / 2]
        out.append(len(late) / (DUR / 2) * 1e3 if len(late) > 1 else 0.0)
    return np.array(out)


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for model, label in (("cs", "Connor–Stevens (A-current)"), ("hh", "Hodgkin–Huxley")):
        sim = compartment(model, SHOWN)
        res = sim.run(DELAY + 200.0)
        left.plot(res.t, res["v"], lw=1, label=label)
        right.plot(DENSITIES, rates(model), "o-", ms=3, label=label)
    left.set_xlabel("time (ms)")
    left.set_ylabel(hp.LABELS["v"])
    left.set_title(f"{SHOWN:g} µA/cm² step")
    hp.plot_stimulus(left, sim.stimuli, res.t, unit="µA/cm²")  # AREA makes 1 nA one µA/cm²
    left.legend(frameon=False, fontsize="small", loc="upper right")
    right.set_xlabel("step current density (µA/cm²)")
    right.set_ylabel("firing rate (Hz)")
    right.set_title("f–I: type I (Connor–Stevens) and type II (HH)")
    right.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    path = Path(outdir) / "14_write_a_channel.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [str(path)]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

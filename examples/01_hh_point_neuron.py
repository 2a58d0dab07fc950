"""The Hodgkin–Huxley point neuron: voltage, gates m, h, n and currents for a current step.

One isopotential compartment of squid membrane at 6.3 °C, in the 1952 paper's convention
(rest 0 mV, depolarisation positive).  A 10 µA/cm² step fires a spike train; the panels show
the voltage, the gates, and the ionic currents I_Na, I_K, I_L with their sum.  The modern
convention (rest -65 mV) gives the same spikes 65 mV lower (see tests/test_pointneuron.py).

Run ``python examples/01_hh_point_neuron.py [FOLDER]`` to write ``01_hh_point_neuron.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import hhcable as hc
import hhcable.plotting as hp
from hhcable.pointneuron import PointNeuron

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

AMP_UA_CM2 = 10.0  # step, µA/cm²
DT = 0.01  # ms


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    neuron = PointNeuron(convention="1952")
    res = neuron.step(amp=AMP_UA_CM2 * neuron.nA_per_uA_cm2(), delay=5.0, dur=30.0, tstop=40.0, dt=DT)
    fig = hp.plot_hh(res, title=f"HH 1952 point neuron, {AMP_UA_CM2:g} µA/cm² step from 5 to 35 ms")
    fig.axes[0].set_ylabel("V, depolarisation from rest (mV)")
    hp.plot_stimulus(fig.axes[0], [hc.IClamp(5.0, 30.0, AMP_UA_CM2)], res.t, unit="µA/cm²")
    fig.tight_layout()
    return [hp.save(fig, Path(outdir) / "01_hh_point_neuron.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""The squid giant axon: an action potential travelling at Hodgkin and Huxley's 18.8 m/s.

A 476 µm axon with Ra = 35.4 Ω·cm at 18.5 °C, the case Hodgkin and Huxley computed in 1952.
Left: the voltage at three places.  Right: voltage along the axon against time, with the
measured conduction velocity drawn as a line (converged solutions give about 18.7 m/s;
HH's hand computation 18.8 m/s; the measured velocity was 21.2 m/s).

Run ``python examples/08_squid_axon.py [FOLDER]`` to write ``08_squid_axon.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import plotting, theory  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

LENGTH = 40_000.0  # µm
SEGMENT = 100.0  # µm: 1/200 of the spike's length
DT = 0.01  # ms
#: About twice threshold for 0.3 ms: the stimulated end peaks near +25 mV, below E_Na (+50 mV).
STIM_NA = 7000.0


def simulate():
    axon = hc.Morphology.cable(length=LENGTH, diam=theory.HH1952_DIAM)
    cell = hc.Cell(axon, Ra=theory.HH1952_RA, celsius=theory.HH1952_CELSIUS, max_segment=SEGMENT)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=DT, method="crank_nicolson")
    sim.iclamp(at=0.0, delay=0.2, dur=0.3, amp=STIM_NA)
    for x in (0.25, 0.5, 0.75):
        sim.probe(f"x = {x:g}", at=x)
    sim.record_crossings(0.0)
    sim.record_space(every=5)
    return sim, sim.run(3.0)


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    sim, res = simulate()
    vel = hc.conduction_velocity(res, start=0.25, stop=0.75)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    plotting.plot_traces(res, left)
    plotting.plot_stimulus(left, sim.stimuli, res.t, scale=1e-3, unit="µA")
    left.set_title(f"squid axon, {theory.HH1952_DIAM:g} µm, {theory.HH1952_CELSIUS} °C")
    plotting.plot_space_time(res, right, velocity=vel, stimuli=sim.stimuli)
    right.set_title(f"measured {vel['cv_m_s']:.2f} m/s (HH 1952: {theory.HH1952_VELOCITY} m/s)")
    fig.tight_layout()
    return [plotting.save(fig, Path(outdir) / "08_squid_axon.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""Stimulating an axon from outside: the activating function and threshold against distance.

A point electrode in a homogeneous medium (σ = 0.3 S/m) above an unmyelinated HH axon makes
the potential ``Ve = I / (4πσr)`` along it.  What moves the membrane is not ``Ve`` but its
second difference along the fibre, Rattay's activating function: a cathodic (negative)
current depolarises the axon under the electrode and hyperpolarises it on either side, an
anodic one the reverse, so an anodic pulse must excite from the weaker flanks and needs
several times the current.  The threshold of a 0.1 ms pulse (the spike must reach the
axon's end) grows with distance as the current–distance relation ``I = I0 + k r²`` says
(Ranck 1975); the fit and its R² are in the legend.

Run ``python examples/29_threshold_distance.py [FOLDER]`` to write ``29_threshold_distance.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import plotting  # noqa: E402
from hhcable.extracellular import current_distance_fit, stimulation_thresholds  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

LENGTH, DIAM, CELSIUS = 6000.0, 4.0, 6.3  # µm, µm, °C: long enough that an anode never excites the ends first
DISTANCES = np.array([50.0, 100.0, 200.0, 300.0, 400.0])  # µm from the axon's axis
PULSE = dict(delay=0.5, dur=0.1)  # ms
SHOWN_AMP = -20.0  # µA, the pulse whose activating function is drawn
SHOWN_DISTANCE = 100.0  # µm


def axon():
    """The unmyelinated HH axon along x (squid membrane, Ra = 35.4 Ω·cm)."""
    cell = hc.Cell(hc.Morphology.cable(length=LENGTH, diam=DIAM), Ra=35.4, celsius=CELSIUS, max_segment=20.0)
    return cell.insert(hc.HH())


def electrode(r):
    """A point electrode above the middle of the axon, ``r`` µm from its axis."""
    return hc.PointElectrode(LENGTH / 2 + 10.0, r, 0.0)  # over the centre of a 20 µm segment


def thresholds(cell, rtol=0.01):
    """Thresholds (µA) of a cathodic and of an anodic 0.1 ms pulse at each of :data:`DISTANCES`, searched together."""
    pulses = [(electrode(r), hc.IClamp(amp=polarity, **PULSE)) for polarity in (-1.0, 1.0) for r in DISTANCES]
    found = stimulation_thresholds(cell, pulses, tstop=7.0, rtol=rtol, bounds=(0.1, 3000.0), dt=0.02)
    return found[: len(DISTANCES)], found[len(DISTANCES):]


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    cell = axon()
    comp = cell.compartments
    inner = comp.area > 0
    x = comp.xyz[inner, 0]
    ve = electrode(SHOWN_DISTANCE).potential(cell) * SHOWN_AMP
    f = hc.activating_function(cell, ve)
    cathodic, anodic = thresholds(cell)

    fig, (field, left, right) = plt.subplots(1, 3, figsize=(14, 4.2))
    field.plot(x, ve[inner], color="C0")
    field.set_xlabel("position along the axon (µm)")
    field.set_ylabel("extracellular potential Ve (mV)")
    field.plot([electrode(0.0).xyz[0]], [field.get_ylim()[0]], "v", color=plotting.STIMULUS_COLOUR, ms=10,
               gid=plotting.STIMULUS_GID)
    field.set_title(f"{SHOWN_AMP:g} µA from a point {SHOWN_DISTANCE:g} µm away", fontsize="medium")

    near = np.abs(x - LENGTH / 2) < 6 * SHOWN_DISTANCE
    left.set_title("Rattay's activating function", fontsize="medium")
    left.plot(x[near], f[inner][near], color="C3", label="cathodic: depolarises under the electrode")
    left.plot(x[near], -f[inner][near], color="C2", label="anodic: hyperpolarises there")
    left.axhline(0.0, color="0.6", lw=0.6)
    left.set_xlabel("position along the axon (µm)")
    left.set_ylabel("activating function f (mV/ms)")
    left.legend(frameon=False, fontsize="small", loc="lower left")

    r = np.linspace(0.0, DISTANCES.max(), 100)
    for values, name, colour in ((cathodic, "cathodic", "C3"), (anodic, "anodic", "C2")):
        i0, k, r2 = current_distance_fit(DISTANCES, values)
        right.plot(DISTANCES, values, "o", color=colour, label=f"{name} 0.1 ms pulse")
        right.plot(r, i0 + k * r**2, "-", color=colour, lw=1,
                   label=f"I0 + k r²: I0 = {i0:.3g} µA, k = {k * 1e3:.3g} nA/µm², R² = {r2:.4f}")
    right.set_xlabel("electrode–axon distance (µm)")
    right.set_ylabel("threshold current (µA)")
    right.set_title(f"HH axon, {DIAM:g} µm, {CELSIUS:g} °C; σ = {hc.DEFAULT_SIGMA_S_M:g} S/m", fontsize="medium")
    right.legend(frameon=False, fontsize="x-small", loc="upper left")
    fig.tight_layout()
    return [plotting.save(fig, Path(outdir) / "29_threshold_distance.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

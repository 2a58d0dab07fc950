"""Strength–duration curves of extracellular stimulation: rheobase and chronaxie.

The threshold of a cathodic pulse from a point electrode falls with the pulse's duration
towards the rheobase; Weiss's law (1901), ``I = I_rh (1 + t_ch / t)``, a charge that grows
linearly with duration, is fitted to the thresholds (least squares in relative error), and
its chronaxie ``t_ch`` is the duration at twice rheobase.  As Rattay, Paredes & Leao (2012,
Neuroscience 214:1) found, the chronaxie of extracellular stimulation grows with the
electrode's distance: near the axon the flanks it hyperpolarises cut the excited zone short,
and only long pulses let excitation spread past them.

Run ``python examples/30_strength_duration.py [FOLDER]`` to write ``30_strength_duration.png``
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
from hhcable.extracellular import strength_duration, weiss_fit  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

LENGTH, DIAM, CELSIUS = 4000.0, 4.0, 6.3  # µm, µm, °C
DISTANCES = (50.0, 200.0, 500.0)  # µm
DURATIONS = np.geomspace(0.05, 5.0, 7)  # ms


def curves(rtol=0.01):
    """Thresholds (µA), one row per electrode distance, and the Weiss fit (rheobase µA, chronaxie ms) of each."""
    cell = hc.Cell(hc.Morphology.cable(length=LENGTH, diam=DIAM), Ra=35.4, celsius=CELSIUS, max_segment=20.0)
    cell.insert(hc.HH())
    rows = [strength_duration(cell, hc.PointElectrode(LENGTH / 2 + 10.0, r, 0.0), DURATIONS, tstop_after=4.0,
                              bounds=(0.3, 3000.0), rtol=rtol, dt=0.02) for r in DISTANCES]
    return np.array(rows), [weiss_fit(DURATIONS, row) for row in rows]


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    thresholds, fits = curves()
    t = np.geomspace(DURATIONS[0], DURATIONS[-1], 100)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.3))
    for k, (r, row, (rheobase, chronaxie)) in enumerate(zip(DISTANCES, thresholds, fits)):
        left.loglog(DURATIONS, row, "o", color=f"C{k}", label=f"{r:g} µm")
        left.loglog(t, rheobase * (1 + chronaxie / t), "-", color=f"C{k}", lw=1,
                    label=f"Weiss: rheobase {rheobase:.3g} µA, chronaxie {chronaxie:.2f} ms")
        right.loglog(DURATIONS, row / rheobase, "o-", color=f"C{k}", label=f"{r:g} µm")
        right.plot([chronaxie], [2.0], "*", color=f"C{k}", ms=12, mec="k")
    left.set_xlabel("pulse duration (ms)")
    left.set_ylabel("threshold current (µA)")
    left.set_title(f"cathodic pulses, HH axon {DIAM:g} µm, {CELSIUS:g} °C", fontsize="medium")
    left.legend(frameon=False, fontsize="x-small")
    right.axhline(2.0, color="0.6", lw=0.6)
    right.set_xlabel("pulse duration (ms)")
    right.set_ylabel("threshold / rheobase (ratio)")
    right.set_title("★ chronaxie: twice rheobase", fontsize="medium")
    right.legend(frameon=False, fontsize="small", title="electrode distance")
    fig.tight_layout()
    return [plotting.save(fig, Path(outdir) / "30_strength_duration.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

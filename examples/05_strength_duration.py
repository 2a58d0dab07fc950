"""Strength–duration curve: the threshold of a pulse against its duration.

Short pulses need strong currents; the threshold falls with duration towards the rheobase.
The charge at threshold (current × duration) tends to a constant for brief pulses: at
6.3 °C about 6.5 nC/cm².  On a membrane of 1 µF/cm² a charge Q moves the voltage by Q/C, so
6.5 nC/cm² is 6.5 mV: the 6–7 mV Hodgkin and Huxley found for a brief shock (their Fig. 12).
Thresholds are found by bisection, all durations simulated together.

Run ``python examples/05_strength_duration.py [FOLDER]`` to write ``05_strength_duration.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hhcable.plotting as hp  # noqa: E402
from hhcable.pointneuron import PointNeuron, strength_duration  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

DURATIONS = np.geomspace(0.05, 20.0, 14)  # ms


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    neuron = PointNeuron()
    per_ua = neuron.nA_per_uA_cm2()
    density = strength_duration(neuron, DURATIONS, dt=0.0125) / per_ua  # µA/cm²
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.loglog(DURATIONS, density, "o-")
    left.set_xlabel("pulse duration (ms)")
    left.set_ylabel("threshold current density (µA/cm²)")
    left.set_title("strength–duration curve")
    right.semilogx(DURATIONS, density * DURATIONS, "o-", color="C1")
    # Hodgkin & Huxley's shocks charged 1 µF/cm² of membrane by 6–7 mV: 6–7 nC/cm².
    right.axhspan(6.0, 7.0, color="0.85", label="HH 1952: 6–7 mV shocks × 1 µF/cm² = 6–7 nC/cm²")
    right.set_xlabel("pulse duration (ms)")
    right.set_ylabel("threshold charge (nC/cm²)")
    right.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return [hp.save(fig, Path(outdir) / "05_strength_duration.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

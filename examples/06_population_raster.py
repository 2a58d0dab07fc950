"""A population of independent HH neurons and its spike raster.

Forty point neurons, each with its own potassium conductance (0.6–1.4 × the HH value) and
its own initial voltage, receive the same 12 µA/cm² step.  They are simulated together as one
batch (one block-diagonal system), so forty cost about as much as one.  Neurons with less
potassium fire faster.

Run ``python examples/06_population_raster.py [FOLDER]`` to write ``06_population_raster.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hhcable.plotting as hp  # noqa: E402
from hhcable.pointneuron import PointNeuron, population_spikes  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

N = 40
GKBAR = 0.036  # S/cm², HH's value
AMP_UA_CM2 = 12.0  # µA/cm²


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    rng = np.random.default_rng(1952)
    scale = np.linspace(0.6, 1.4, N)
    neurons = [PointNeuron(gkbar=GKBAR * s) for s in scale]
    v_init = rng.uniform(-70.0, -60.0, N)
    spikes = population_spikes(neurons, tstop=100.0, amp=AMP_UA_CM2 * neurons[0].nA_per_uA_cm2(),
                               delay=10.0, v_init=v_init)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [3, 1]})
    hp.plot_raster(spikes, ax=left)
    left.set_title(f"{N} HH neurons, {AMP_UA_CM2:g} µA/cm² from 10 ms")
    right.plot([len(s) for s in spikes], scale * GKBAR * 1e3, "o", ms=3)
    right.set_xlabel("spikes in 90 ms (count)")
    right.set_ylabel("gkbar (mS/cm²)")
    fig.tight_layout()
    return [hp.save(fig, Path(outdir) / "06_population_raster.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""A population of independent HH neurons and its spike raster.

Forty point neurons, each with its own potassium conductance (0.75–1.5 × the HH value),
receive the same 12 µA/cm² step from 10 ms.  Each starts at its own resting state (found
by letting it settle without current), so nothing fires before the step: a neuron started
away from rest can fire a rebound spike on its own, and with less than about 0.7 × the HH
potassium the resting state is unstable and the neuron fires with no current at all.  With
the step, neurons with less potassium fire repetitively; above about 1.3 × they fire once.
They are simulated together as one batch (one block-diagonal system), so forty cost about as
much as one.

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
from hhcable import Batch  # noqa: E402
from hhcable.pointneuron import PointNeuron, population_spikes  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

N = 40
GKBAR = 0.036  # S/cm², HH's value
SCALE = (0.75, 1.5)  # range of gkbar / GKBAR
AMP_UA_CM2 = 12.0  # µA/cm²
ONSET, TSTOP = 10.0, 100.0  # ms
SETTLE = 300.0  # ms without current to find each neuron's resting state


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    scale = np.linspace(*SCALE, N)
    neurons = [PointNeuron(gkbar=GKBAR * s) for s in scale]
    settled = Batch([n.simulation(dt=0.025, record=("v",)) for n in neurons]).run(SETTLE)
    rest = [res["v"][-1] for res in settled]
    spikes = population_spikes(neurons, tstop=TSTOP, amp=AMP_UA_CM2 * neurons[0].nA_per_uA_cm2(),
                               delay=ONSET, v_init=rest)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [3, 1]})
    left.axvspan(ONSET, TSTOP, color=hp.STIMULUS_COLOUR, alpha=0.12, lw=0, gid=hp.STIMULUS_GID,
                 label=f"{AMP_UA_CM2:g} µA/cm² step")
    hp.plot_raster(spikes, ax=left)
    left.set_xlim(0.0, TSTOP)
    left.legend(loc="upper right", fontsize="small")
    left.set_title(f"{N} HH neurons at rest, gkbar {SCALE[0]:g}–{SCALE[1]:g} × 36 mS/cm² (bottom to top)")
    right.plot([len(s) for s in spikes], scale * GKBAR * 1e3, "o", ms=3)
    right.set_xlabel(f"spikes in {TSTOP - ONSET:g} ms (count)")
    right.set_ylabel("gkbar (mS/cm²)")
    fig.tight_layout()
    return [hp.save(fig, Path(outdir) / "06_population_raster.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""Phase plane of the HH point neuron: V against n and against m, and the limit cycle.

Under a constant current of 10 µA/cm² (above the 9.78 µA/cm² Hopf bifurcation, so the
resting state is unstable) the trajectory leaves rest and winds onto the limit cycle of
repetitive firing; the last full cycle is drawn bold.  In the V–m plane the fast sodium
activation follows the voltage almost instantly; in the V–n plane the slow potassium
activation lags, which makes the loop.

Run ``python examples/02_phase_plane.py [FOLDER]`` to write ``02_phase_plane.png``
into FOLDER (default: ``examples/figures/``).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hhcable.plotting as hp  # noqa: E402
from hhcable.pointneuron import PointNeuron  # noqa: E402

#: Where the figure goes unless a folder is given: examples/figures/, never the current folder.
FIGURES = Path(__file__).resolve().parent / "figures"

AMP_UA_CM2 = 10.0  # µA/cm²


def main(outdir=FIGURES):
    """Simulate and write the figure; returns its path."""
    neuron = PointNeuron()
    res = neuron.step(amp=AMP_UA_CM2 * neuron.nA_per_uA_cm2(), delay=0.0, dur=100.0, tstop=100.0,
                      dt=0.02, record=("v", "m", "n"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    hp.plot_phase_plane(res, "v", "n", ax=left)
    hp.plot_phase_plane(res, "v", "m", ax=right)
    fig.suptitle(f"HH point neuron under a constant {AMP_UA_CM2:g} µA/cm²")
    fig.tight_layout()
    return [hp.save(fig, Path(outdir) / "02_phase_plane.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

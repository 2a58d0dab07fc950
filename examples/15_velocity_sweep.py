"""A sweep: conduction velocity against diameter and temperature, from one sweep file.

``examples/models/velocity_sweep.toml`` varies the diameter (8 values, 0.5 to 8 µm) and the
temperature (6.3 to 25 °C) of the HH axon of ``examples/models/hh_axon.toml`` (1,000
compartments): 32 models, packed into chunks that each run as one ``hc.Batch`` on a local
Dask cluster with one worker process per core.  The table has one row per model (its
values, its velocity, the spike's time and peak at the far probe).  Left: velocity against
diameter at each temperature, with the square-root law scaled from Hodgkin and Huxley's
18.8 m/s at 476 µm and 18.5 °C (``hhcable.theory.unmyelinated_velocity``), which the
18.5 °C models follow; right: velocity against temperature, on a log scale where the lines
are parallel: the diameter only rescales distance (the square-root law), so warming speeds
the spike up by the same factor at every diameter.

The same sweep from the shell::

    hhcable sweep examples/models/velocity_sweep.toml --out velocity.parquet --plot velocity.png

Run ``python examples/15_velocity_sweep.py`` to write ``15_velocity_sweep.png``.
"""

import importlib.util
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402
import numpy as np  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import plotting, sweeptable, theory  # noqa: E402

SWEEP = Path(__file__).resolve().parent / "models" / "velocity_sweep.toml"
FIGURES = Path(__file__).resolve().parent / "figures"
DIAM, CELSIUS, CV = "morphology.cable.diam_um", "biophysics.celsius", "cv_m_s"
TICKS = [0.4, 0.6, 1.0, 1.5, 2.0, 3.0]  # m/s


def main(outdir=FIGURES):
    """Run the sweep (every core; in this process where Dask is not installed) and write the figure."""
    workers = None if importlib.util.find_spec("distributed") else 0
    with tempfile.TemporaryDirectory() as folder:  # a real sweep keeps its table: --out results.parquet
        table = hc.sweep(SWEEP, Path(folder) / "velocity.parquet", workers=workers, progress=False)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.3))
    sweeptable.plot(table, DIAM, CV, by=CELSIUS, ax=left)
    d = np.geomspace(min(table.column(DIAM).to_pylist()), max(table.column(DIAM).to_pylist()), 50)
    left.plot(d, theory.unmyelinated_velocity(d), "k--", lw=1, label="sqrt law, HH 1952 at 18.5 °C")
    left.set_title("velocity against diameter")
    sweeptable.plot(table, CELSIUS, CV, by=DIAM, ax=right)
    right.set_title("velocity against temperature")
    for ax, by in ((left, CELSIUS), (right, DIAM)):
        for line in ax.get_lines():  # the legend without the column name
            line.set_label(line.get_label().replace(f"{by} = ", ""))
        ax.set_yscale("log")
        ax.set_yticks(TICKS, labels=[f"{t:g}" for t in TICKS])
        ax.yaxis.set_minor_formatter(NullFormatter())
    left.legend(frameon=False, fontsize="small", loc="upper left")
    right.legend(frameon=False, fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    left.set_xscale("log")
    left.set_xticks([0.5, 1, 2, 4, 8], labels=["0.5", "1", "2", "4", "8"])
    left.xaxis.set_minor_formatter(NullFormatter())
    fig.tight_layout()
    return [plotting.save(fig, Path(outdir) / "15_velocity_sweep.png")]


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""Figures of a run: voltage traces at the probes and a space–time picture.

Every function draws into matplotlib axes it creates or is given, and returns the figure;
``save`` writes it to a file.  Axes carry their units.
"""

import numpy as np

from .units import M_S_PER_UM_MS


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_traces(result, ax=None):
    """Voltage (mV) against time (ms) at every voltage probe of ``result``."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    comp = result.cell.compartments
    for name, node, trace in zip(result.names, result.nodes, result.traces):
        ax.plot(result.t, trace, lw=1.2, label=f"{name} ({comp.distance[node]:.0f} µm)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("membrane potential (mV)")
    if result.names:
        ax.legend(fontsize="small", frameon=False)
    return ax.figure


def plot_space_time(result, ax=None, velocity=None):
    """Voltage along the main path (µm) against time (ms) as a heat map.

    Needs a run that recorded the whole cell (``Simulation.record_space``).  With
    ``velocity`` (m/s, as returned by :func:`hhcable.conduction_velocity`) a line of that
    slope is drawn through the first crossing at the start of the path.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    path = result.cell.main_path()
    dist = result.cell.compartments.distance[path]
    volts = result.space_v[:, path].T
    # Robust colour limits: the stimulated node can sit far outside the spike's range.
    low, high = np.percentile(volts, [0.5, 99.5])
    image = ax.pcolormesh(result.space_t, dist, volts, shading="nearest", cmap="viridis",
                          vmin=low, vmax=high, rasterized=True)
    ax.figure.colorbar(image, ax=ax, label="membrane potential (mV)")
    if velocity is not None and result.crossings is not None:
        times = result.crossings[path]
        ok = np.isfinite(times)
        if ok.any():
            speed = velocity["cv_m_s"] / M_S_PER_UM_MS  # µm/ms
            t0, d0 = times[ok][0], dist[ok][0]
            tt = np.array([t0, result.space_t[-1]])
            ax.plot(tt, d0 + speed * (tt - t0), "w--", lw=1, label=f"{velocity['cv_m_s']:.2f} m/s")
            ax.legend(loc="lower right", fontsize="small")
            ax.set_ylim(dist[0], dist[-1])
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("distance from root (µm)")
    return ax.figure


def plot_result(result, velocity=None):
    """The default figure of a run: traces, and the space–time picture when recorded."""
    plt = _pyplot()
    panels = 2 if result.space_v is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 3.8), squeeze=False)
    plot_traces(result, axes[0, 0])
    if panels == 2:
        plot_space_time(result, axes[0, 1], velocity=velocity)
    fig.tight_layout()
    return fig


def save(fig, path, format=None):
    """Write ``fig`` to ``path`` (a file name or a binary file object) and close it.

    ``format`` (``"png"``, ``"pdf"``, ``"svg"``...) defaults to the file name's extension.
    """
    plt = _pyplot()
    fig.savefig(path, dpi=120, format=format)
    plt.close(fig)
    return path

"""Figures of a run: traces, gates and currents, phase planes, space–time pictures, and the
morphology coloured by voltage or by spike arrival time.

Every function draws into matplotlib axes it creates or is given (``ax=``) and returns the
figure, so figures compose and show inline in notebooks; ``save`` writes one to a file.
Axes carry their units.
"""

import numpy as np

from .errors import InputError
from .units import M_S_PER_UM_MS

#: Probe names of the HH gates and currents (as :class:`hhcable.pointneuron.PointNeuron` names them).
GATES = ("m", "h", "n")
CURRENTS = ("ina", "ik", "il")
#: Axis labels of the variables a probe can record.
LABELS = {"v": "membrane potential (mV)", "m": "Na activation m (1)", "h": "Na inactivation h (1)",
          "n": "K activation n (1)", "ina": "I_Na (mA/cm²)", "ik": "I_K (mA/cm²)", "il": "I_L (mA/cm²)"}
#: Line widths (points) of the thinnest and thickest neurites drawn by :func:`plot_morphology`;
#: in between, width grows as the square root of the diameter.
MIN_LINE_PT, MAX_LINE_PT = 0.6, 5.0


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _axes(ax, figsize=(6, 3.5)):
    if ax is None:
        _, ax = _pyplot().subplots(figsize=figsize)
    return ax


def _trace(result, name):
    try:
        return result[name]
    except KeyError as err:
        raise InputError(f"no probe named {name!r} in this result; probes: {result.names}",
                         key="names") from err


def plot_traces(result, ax=None, names=None, ylabel=LABELS["v"]):
    """Traces against time (ms) at the probes of ``result``.

    Parameters
    ----------
    result : Result
    ax : matplotlib Axes, optional
    names : sequence of str, optional
        Probes to draw (default: all of them, which should then all be voltages).
    ylabel : str
        Label of the y axis, with its unit.
    """
    ax = _axes(ax)
    comp = result.cell.compartments
    names = result.names if names is None else names
    for name in names:
        trace = _trace(result, name)
        node = result.nodes[result.names.index(name)]
        ax.plot(result.t, trace, lw=1.2, label=f"{name} ({comp.distance[node]:.0f} µm)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(ylabel)
    if names:
        ax.legend(fontsize="small", frameon=False)
    return ax.figure


def plot_gates(result, ax=None, names=GATES):
    """The gating variables m, h, n (1) against time (ms), from probes of those names."""
    ax = _axes(ax)
    for name in names:
        ax.plot(result.t, _trace(result, name), lw=1.2, label=name)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("gating variable (1)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize="small", frameon=False, ncol=len(names))
    return ax.figure


def plot_currents(result, ax=None, names=CURRENTS, total=True):
    """Ionic current densities (mA/cm², outward positive) against time (ms), and their sum."""
    ax = _axes(ax)
    pretty = {"ina": "I_Na", "ik": "I_K", "il": "I_L"}
    traces = [_trace(result, name) for name in names]
    for name, trace in zip(names, traces):
        ax.plot(result.t, trace, lw=1.2, label=pretty.get(name, name))
    if total:
        ax.plot(result.t, np.sum(traces, axis=0), "k--", lw=1, label="sum")
    ax.axhline(0.0, color="0.7", lw=0.6)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("current density (mA/cm², outward +)")
    ax.legend(fontsize="small", frameon=False, ncol=len(names) + total)
    return ax.figure


def plot_hh(result, v="v", gates=GATES, currents=CURRENTS, title=None):
    """The single-compartment HH figure: voltage, gates and currents, one above the other."""
    plt = _pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(6.5, 7), sharex=True)
    axes[0].plot(result.t, _trace(result, v), "k", lw=1.2)
    axes[0].set_ylabel(LABELS["v"])
    axes[0].set_xlabel("time (ms)")
    plot_gates(result, axes[1], gates)
    plot_currents(result, axes[2], currents)
    if title:
        axes[0].set_title(title)
    fig.tight_layout()
    return fig


def last_cycle(t, x, threshold=None):
    """Index range ``(start, stop)`` of the last full oscillation of ``x`` in time ``t``.

    A cycle runs between successive upward crossings of ``threshold`` (default: midway
    between the trace's extremes over its second half).  Returns None with fewer than two
    crossings.
    """
    x = np.asarray(x, dtype=float)
    half = x[len(x) // 2:]
    level = (half.min() + half.max()) / 2 if threshold is None else threshold
    ups = np.flatnonzero((x[:-1] < level) & (x[1:] >= level))
    if len(ups) < 2:
        return None
    return int(ups[-2]), int(ups[-1]) + 1


def plot_phase_plane(result, x="v", y="n", ax=None, threshold=None):
    """Trajectory of probe ``y`` against probe ``x``, the last full cycle drawn bold.

    Under a constant current above the rheobase the trajectory winds onto the limit cycle,
    which the last full cycle of the run traces out.
    """
    ax = _axes(ax, figsize=(4.5, 4))
    xs, ys = _trace(result, x), _trace(result, y)
    ax.plot(xs, ys, color="0.6", lw=0.8, label="trajectory")
    cycle = last_cycle(result.t, xs, threshold)
    if cycle is not None:
        a, b = cycle
        ax.plot(xs[a:b], ys[a:b], "C3", lw=2, label=f"limit cycle ({result.t[b - 1] - result.t[a]:.1f} ms)")
    ax.plot(xs[0], ys[0], "ko", ms=4, label="start")
    ax.set_xlabel(LABELS.get(x, f"{x}"))
    ax.set_ylabel(LABELS.get(y, f"{y}"))
    ax.legend(fontsize="small", frameon=False)
    return ax.figure


def _path_nodes(cell, path):
    """Nodes of a path (default: root to the farthest tip) and their distance along it (µm)."""
    comp = cell.compartments
    if path is None:
        nodes = cell.main_path()
        return nodes, comp.distance[nodes] - comp.distance[nodes[0]]
    if len(path) != 2:
        raise InputError("path must be a pair of locations (start, stop)", key="path")
    nodes, along = comp.path(cell.locate(path[0]), cell.locate(path[1]))
    return nodes, np.abs(along)


def plot_space_time(result, ax=None, velocity=None, path=None):
    """Voltage along a path (µm) against time (ms) as a heat map.

    Needs a run that recorded the whole cell (``Simulation.record_space``).  With
    ``velocity`` (m/s, as returned by :func:`hhcable.conduction_velocity`) a line of that
    slope is drawn through the first crossing halfway along the path (the spike is still
    speeding up near a stimulus at the start).

    Parameters
    ----------
    result : Result
    ax : matplotlib Axes, optional
    velocity : dict, optional
        ``{"cv_m_s": ...}``.
    path : (location, location), optional
        Start and stop of the path (default: the root to the farthest tip).
    """
    if result.space_v is None:
        raise InputError("the run did not record the whole cell; call Simulation.record_space()",
                         key="space")
    ax = _axes(ax)
    nodes, dist = _path_nodes(result.cell, path)
    volts = result.space_v[:, nodes].T
    # Robust colour limits: the stimulated node can sit far outside the spike's range.
    low, high = np.percentile(volts, [0.5, 99.5])
    image = ax.pcolormesh(result.space_t, dist, volts, shading="nearest", cmap="viridis",
                          vmin=low, vmax=high, rasterized=True)
    ax.figure.colorbar(image, ax=ax, label=LABELS["v"])
    if velocity is not None and result.crossings is not None:
        times = result.crossings[nodes]
        ok = np.isfinite(times)
        if ok.any():
            speed = velocity["cv_m_s"] / M_S_PER_UM_MS  # µm/ms
            middle = np.flatnonzero(ok)[np.count_nonzero(ok) // 2]
            t0, d0 = times[middle], dist[middle]
            dd = np.array([dist.min(), dist.max()])
            ax.plot(t0 + (dd - d0) / speed, dd, "w--", lw=1, label=f"{velocity['cv_m_s']:.2f} m/s")
            ax.set_xlim(result.space_t[0], result.space_t[-1])
            ax.legend(loc="lower right", fontsize="small")
            ax.set_ylim(dist.min(), dist.max())
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("distance along the path (µm)")
    return ax.figure


def _segments(cell, plane):
    axes = {"x": 0, "y": 1, "z": 2}
    if len(plane) != 2 or any(c not in axes for c in plane):
        raise InputError(f"plane must be two of x, y, z such as 'xy', got {plane!r}", key="plane")
    comp = cell.compartments
    cols = [axes[c] for c in plane]
    child = np.flatnonzero(comp.parent >= 0)
    xy = comp.xyz[:, cols]
    return child, np.stack([xy[comp.parent[child]], xy[child]], axis=1)


def plot_morphology(cell, values=None, ax=None, plane="xy", label=None, cmap="viridis",
                    vmin=None, vmax=None, stimuli=(), probes=None):
    """The cell in 2D projection, each piece coloured by a value at its node.

    Parameters
    ----------
    cell : Cell
    values : ndarray, optional
        One value per node (for example a voltage frame, mV, or first-crossing times, ms);
        NaN draws grey.  Without values the cell is drawn in black.
    ax : matplotlib Axes, optional
    plane : str
        Two of ``x, y, z``: the projection.
    label : str
        Colour bar label, with its unit.
    cmap : str
    vmin, vmax : float, optional
        Colour limits, in the unit of ``values``.
    stimuli : sequence of locations
        Marked with red triangles.
    probes : dict of name -> location, optional
        Marked with circles and named.
    """
    from matplotlib.collections import LineCollection

    ax = _axes(ax, figsize=(6, 5))
    nodes, segs = _segments(cell, plane)
    diam = cell.compartments.diam[nodes]
    widths = np.clip(MAX_LINE_PT * np.sqrt(diam / diam.max()), MIN_LINE_PT, MAX_LINE_PT)
    lines = LineCollection(segs, linewidths=widths, capstyle="round")
    if values is None:
        lines.set_color("k")
    else:
        values = np.asarray(values, dtype=float)
        if values.shape != (cell.compartments.n_nodes,):
            raise InputError(f"values must have one entry per node ({cell.compartments.n_nodes}), "
                             f"got shape {values.shape}", key="values")
        import matplotlib

        colours = matplotlib.colormaps[cmap].with_extremes(bad="0.75")
        lines.set_array(np.ma.masked_invalid(values[nodes]))
        lines.set_cmap(colours)
        finite = values[np.isfinite(values)]
        lo = vmin if vmin is not None else (finite.min() if finite.size else 0.0)
        hi = vmax if vmax is not None else (finite.max() if finite.size else 1.0)
        lines.set_clim(lo, hi if hi > lo else lo + 1.0)
        ax.figure.colorbar(lines, ax=ax, label=label or "value")
    ax.add_collection(lines)
    xyz = cell.compartments.xyz[:, [{"x": 0, "y": 1, "z": 2}[c] for c in plane]]
    for i, at in enumerate(stimuli):
        p = xyz[cell.locate(at)]
        ax.plot(*p, "v", color="red", ms=10, mec="k", zorder=5, label="stimulus" if i == 0 else None)
    for i, (name, at) in enumerate((probes or {}).items()):
        p = xyz[cell.locate(at)]
        ax.plot(*p, "o", color="white", mec="k", ms=7, zorder=5, label="probe" if i == 0 else None)
        ax.annotate(name, p, xytext=(5, 5), textcoords="offset points", fontsize="small")
    ax.margins(0.08)  # room for the markers and probe names at the edges
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(f"{plane[0]} (µm)")
    ax.set_ylabel(f"{plane[1]} (µm)")
    if stimuli or probes:
        ax.legend(fontsize="small", frameon=False, loc="best")
    return ax.figure


def _probe_places(result):
    return {name: {"node": int(node)} for name, node in zip(result.names, result.nodes)}


def plot_voltage_map(result, time, ax=None, plane="xy", stimuli=(), vmin=None, vmax=None):
    """The morphology coloured by membrane potential (mV) at the recorded frame nearest ``time`` (ms)."""
    if result.space_v is None:
        raise InputError("the run did not record the whole cell; call Simulation.record_space()",
                         key="space")
    ax = _axes(ax, figsize=(6, 5))
    frame = int(np.argmin(np.abs(result.space_t - time)))
    plot_morphology(result.cell, result.space_v[frame], ax, plane, label=LABELS["v"],
                    vmin=vmin, vmax=vmax, stimuli=stimuli, probes=_probe_places(result))
    ax.set_title(f"t = {result.space_t[frame]:.2f} ms")
    return ax.figure


def plot_latency_map(result, ax=None, plane="xy", stimuli=(), origin=0.0):
    """The morphology coloured by first-spike arrival time (ms after ``origin``, ms).

    Needs crossings (``Simulation.record_crossings``); nodes the spike never reached are grey.
    """
    if result.crossings is None:
        raise InputError("the run did not record crossings; call Simulation.record_crossings()",
                         key="crossings")
    label = f"first crossing of {result.threshold:g} mV (ms)"
    return plot_morphology(result.cell, result.crossings - origin, ax, plane, label=label, cmap="plasma",
                           stimuli=stimuli, probes=_probe_places(result))


def plot_raster(spikes, ax=None, labels=None):
    """Spike raster: one row per neuron, a tick at each spike time (ms).

    Parameters
    ----------
    spikes : sequence of ndarray, ms
    ax : matplotlib Axes, optional
    labels : sequence of str, optional
        Row labels (default: the neuron's index).
    """
    ax = _axes(ax)
    ax.eventplot(list(spikes), colors="k", linelengths=0.8, linewidths=1.0)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron (index)")
    if labels is not None:
        ax.set_yticks(range(len(labels)), labels)
    return ax.figure


def plot_result(result, velocity=None, names=None):
    """The default figure of a run: the traces; the space–time picture when the whole cell
    was recorded; and, for a branched cell with recorded crossings, its latency map.

    ``names`` picks the voltage probes to draw (default: every probe)."""
    plt = _pyplot()
    space = result.space_v is not None
    latency = result.crossings is not None and not result.cell.morphology.is_unbranched()
    panels = 1 + space + latency
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 3.8 + 0.7 * latency), squeeze=False)
    plot_traces(result, axes[0, 0], names=names)
    if space:
        plot_space_time(result, axes[0, 1], velocity=velocity)
    if latency:
        plot_latency_map(result, axes[0, -1])
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

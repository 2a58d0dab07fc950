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
#: Gates are fractions of open gates, from 0 to 1; "(0–1)" says so where "(1)" says nothing.
LABELS = {"v": "membrane potential (mV)", "m": "Na activation m (0–1)", "h": "Na inactivation h (0–1)",
          "n": "K activation n (0–1)", "ina": "I_Na (mA/cm²)", "ik": "I_K (mA/cm²)", "il": "I_L (mA/cm²)"}
#: Artist id of every drawn stimulus (the gallery test looks for it).
STIMULUS_GID = "stimulus"
#: Colour of stimuli in every figure.
STIMULUS_COLOUR = "C3"
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
        # Constrained layout: labels and colour bars fit the figure without a tight_layout call.
        _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
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


def _stimuli(stimuli):
    """Stimulus objects from a list of them or of ``(node, stimulus)`` pairs (``Simulation.stimuli``)."""
    return [s[1] if isinstance(s, tuple) else s for s in stimuli]


def plot_stimulus(ax, stimuli, t, scale=1.0, unit="nA", twin=None, colour=STIMULUS_COLOUR):
    """The injected current drawn under the traces of ``ax``, on a twin axis at its bottom.

    Parameters
    ----------
    ax : matplotlib Axes
    stimuli : sequence of Stimulus or of (node, Stimulus)
        Their currents are summed (nA).
    t : ndarray, ms
    scale : float
        Factor from nA to ``unit`` (for example 1 / ``PointNeuron.nA_per_uA_cm2()`` for µA/cm²).
    unit : str
    twin : matplotlib Axes, optional
        The twin axis of an earlier call, to draw several stimuli on one scale.
    colour : matplotlib colour

    Returns
    -------
    matplotlib Axes
        The twin axis.
    """
    current = sum((s.current(np.asarray(t, dtype=float)) for s in _stimuli(stimuli)), np.zeros(len(t))) * scale
    top = max(float(np.max(np.abs(current))), 1e-12)
    if twin is not None:
        top = max(top, twin.get_ylim()[1] / 4.0)
    else:
        twin = ax.twinx()
    twin.fill_between(t, 0.0, current, step="post", color=colour, alpha=0.25, lw=0, gid=STIMULUS_GID)
    twin.plot(t, current, color=colour, lw=0.8, drawstyle="steps-post")
    twin.set_ylabel(f"stimulus ({unit})", color=STIMULUS_COLOUR)
    twin.set_ylim(-0.05 * top, 4.0 * top)  # the step sits in the lowest quarter, under the voltage
    ax.set_zorder(twin.get_zorder() + 1)  # traces in front of the stimulus
    ax.patch.set_visible(False)
    return twin


def _onsets(stimuli, t):
    """Time (ms) each stimulus first injects a current, from the samples ``t`` (ms)."""
    out = []
    for s in _stimuli(stimuli):
        on = np.flatnonzero(s.current(np.asarray(t, dtype=float)) != 0.0)
        out.append(float(t[on[0]]) if on.size else None)
    return out


def plot_gates(result, ax=None, names=GATES):
    """The gating variables m, h, n (0–1) against time (ms), from probes of those names."""
    ax = _axes(ax)
    for name in names:
        ax.plot(result.t, _trace(result, name), lw=1.2, label=name)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("open fraction of gates (0–1)")
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


def plot_space_time(result, ax=None, velocity=None, path=None, stimuli=()):
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
    stimuli : sequence of (node, Stimulus), optional
        ``Simulation.stimuli``: each marked where and when it starts (if on the path).
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
    on_path = dict(zip(nodes.tolist(), dist))
    for (node, _), onset in zip(stimuli, _onsets(stimuli, result.t)):
        if onset is not None and int(node) in on_path:
            ax.plot(onset, on_path[int(node)], ">", color=STIMULUS_COLOUR, mec="w", ms=9, clip_on=False,
                    gid=STIMULUS_GID, zorder=6)
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
        Marked with red triangles, drawn over the probes.
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
        # Over any probe at the same place (probes are drawn below, zorder 5).
        ax.plot(*p, "v", color=STIMULUS_COLOUR, ms=12, mec="k", zorder=6, gid=STIMULUS_GID,
                label="stimulus" if i == 0 else None)
    middle = (xyz[:, 0].min() + xyz[:, 0].max()) / 2
    for i, (name, at) in enumerate((probes or {}).items()):
        p = xyz[cell.locate(at)]
        ax.plot(*p, "o", color="white", mec="k", ms=7, zorder=5, label="probe" if i == 0 else None)
        right = p[0] > middle  # names point inwards, never past the axes into a colour bar
        ax.annotate(name, p, xytext=(-5 if right else 5, 5), textcoords="offset points", fontsize="small",
                    ha="right" if right else "left")
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


def plot_result(result, velocity=None, names=None, stimuli=()):
    """The default figure of a run: the traces; the space–time picture when the whole cell
    was recorded; and, for a branched cell with recorded crossings, its latency map.

    ``names`` picks the voltage probes to draw (default: every probe); ``stimuli``
    (``Simulation.stimuli``) are drawn under the traces and marked on the pictures.
    Without probes the traces panel says so instead of staying empty."""
    plt = _pyplot()
    space = result.space_v is not None
    latency = result.crossings is not None and not result.cell.morphology.is_unbranched()
    panels = 1 + space + latency
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 3.8 + 0.7 * latency), squeeze=False)
    if len(result.names if names is None else names):
        plot_traces(result, axes[0, 0], names=names)
        if stimuli:
            plot_stimulus(axes[0, 0], stimuli, result.t)
    else:
        axes[0, 0].text(0.5, 0.5, "no probes: add [[probe]] tables to see traces", ha="center",
                        transform=axes[0, 0].transAxes)
        axes[0, 0].set_axis_off()
    if space:
        plot_space_time(result, axes[0, 1], velocity=velocity, stimuli=stimuli)
    if latency:
        plot_latency_map(result, axes[0, -1], stimuli=[{"node": int(node)} for node, _ in stimuli])
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

"""Figures: every axis labelled with its unit, and what they draw agrees with the run."""

import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import plotting  # noqa: E402
from hhcable.pointneuron import PointNeuron  # noqa: E402

#: A unit in parentheses at the end of a label: "time (ms)", "open fraction m (0–1)"; a bare
#: "(1)" tells a student nothing and is refused.
UNIT = re.compile(r"\((?!1\))[^()]+\)\s*$")
#: Pixels a text may stick out of the figure or into another axes (antialiasing, rounding).
CLIP_TOLERANCE_PX = 2.0


def assert_labelled(fig):
    """Every visible axes has x and y labels ending in a unit; colour bars need one label."""
    axes = [ax for ax in fig.axes if ax.axison]
    assert axes, "the figure has no axes"
    for ax in axes:
        # A twin axis (a stimulus drawn under traces) hides its x axis: only its y label counts.
        labels = [axis.get_label_text() for axis in (ax.xaxis, ax.yaxis) if axis.get_visible()]
        if hasattr(ax, "_colorbar"):
            assert any(UNIT.search(lb) for lb in labels), f"colour bar without a unit: {labels}"
        else:
            for lb in labels:
                assert UNIT.search(lb), f"axis label {lb!r} carries no unit"
        assert ax.has_data() or hasattr(ax, "_colorbar"), "an empty axes"
    assert_not_clipped(fig)


def _drawn_boxes(ax, renderer):
    """(what, bbox) of each axis (its label and drawn tick labels) and of the title."""
    boxes = [(f"{name} axis of {ax.get_xlabel() or ax.get_ylabel() or 'an axes'}", axis.get_tightbbox(renderer))
             for name, axis in (("x", ax.xaxis), ("y", ax.yaxis))]
    boxes += [(f"title {t.get_text()!r}", t.get_window_extent(renderer))
              for t in (ax.title, ax._left_title, ax._right_title, *ax.texts)
              if t.get_visible() and t.get_text().strip()]
    return [(what, box) for what, box in boxes if box is not None and box.width > 0]


def assert_not_clipped(fig):
    """No label, title or tick label sticks out of the figure or into another panel (a colour
    bar over a neighbour's label, a title under the panel above); twin axes share a panel."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox.padded(CLIP_TOLERANCE_PX)
    panels = [ax for ax in fig.axes if ax.axison]
    for ax in panels:
        for what, box in _drawn_boxes(ax, renderer):
            assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, \
                f"{what} is cut off at the figure's edge"
            for other in panels:
                if other is ax or np.allclose(other.bbox.bounds, ax.bbox.bounds):
                    continue
                inner = other.bbox.padded(-CLIP_TOLERANCE_PX)
                assert not box.overlaps(inner), f"{what} runs into another panel"


#: An x axis of time or of a morphology's coordinates: a figure that shows a run as it happened.
SHOWS_A_RUN = re.compile(r"^(time|[xyz]) \(")


def assert_stimulus_drawn(fig):
    """A figure that shows a run in time or on the cell draws its stimulus (an artist with
    ``gid="stimulus"``: the current under the traces, a marker on a morphology or a map)."""
    if not any(SHOWS_A_RUN.match(ax.get_xlabel()) for ax in fig.axes):
        return
    artists = [a for ax in fig.axes for a in ax.get_children()]
    assert any(a.get_gid() == "stimulus" for a in artists), "the stimulus is not drawn"


@pytest.fixture(scope="module")
def cable_run():
    cell = hc.Cell(hc.Morphology.cable(length=3000.0, diam=2.0), max_segment=30.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.05)
    sim.iclamp(at=0.0, delay=0.5, dur=0.5, amp=1.0)
    sim.probe("near", at=0.2)
    sim.probe("far", at=0.8)
    sim.record_crossings(0.0)
    sim.record_space(every=2)
    return sim.run(10.0)


@pytest.fixture(scope="module")
def tree_run():
    morph = hc.Morphology.y_junction(parent_length=400.0, parent_diam=2.0, daughter_lengths=(300.0, 500.0),
                                     daughter_diams=(1.0, 1.5))
    cell = hc.Cell(morph, max_segment=20.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.05)
    sim.iclamp(at=0.0, delay=0.5, dur=0.5, amp=1.0)
    sim.probe("tip", at=1.0)
    sim.record_crossings(0.0)
    sim.record_space(every=2)
    return sim.run(8.0)


@pytest.fixture(scope="module")
def point_run():
    neuron = PointNeuron()
    return neuron, neuron.step(amp=10.0, delay=5.0, dur=60.0, tstop=70.0, dt=0.05)


def test_hh_figure_traces_gates_currents(point_run):
    _, res = point_run
    fig = plotting.plot_hh(res, title="step")
    assert_labelled(fig)
    current_ax = fig.axes[2]
    total = next(line for line in current_ax.lines if line.get_label() == "sum")
    np.testing.assert_allclose(total.get_ydata(), res["ina"] + res["ik"] + res["il"])
    plotting.save(fig, "/dev/null", format="png")


def test_phase_plane_limit_cycle_period_is_the_interspike_interval(point_run):
    neuron, res = point_run
    fig = plotting.plot_phase_plane(res, "v", "n")
    assert_labelled(fig)
    a, b = plotting.last_cycle(res.t, res["v"])
    isi = np.diff(neuron.spikes(res))[-1]
    # Both are upward crossings sampled on the same dt grid (0.05 ms): they agree to a step.
    assert res.t[b - 1] - res.t[a] == pytest.approx(isi, abs=0.05)
    matplotlib.pyplot.close(fig)


def test_last_cycle_needs_two_cycles():
    t = np.linspace(0, 1, 50)
    assert plotting.last_cycle(t, t) is None


def test_space_time_velocity_line_runs_along_the_spike(cable_run):
    vel = hc.conduction_velocity(cable_run, 0.3, 0.7)
    fig = plotting.plot_space_time(cable_run, velocity=vel)
    assert_labelled(fig)
    line = fig.axes[0].lines[0]
    (t0, t1), (d0, d1) = line.get_xdata(), line.get_ydata()
    path = cable_run.cell.main_path()
    dist = cable_run.cell.compartments.distance[path]
    mid = (dist > 1000) & (dist < 2000)
    drawn = d0 + (d1 - d0) / (t1 - t0) * (cable_run.crossings[path][mid] - t0)
    # Along the middle third the spike travels at the fitted speed: the line must pass within
    # one compartment (30 µm) of every first crossing there.
    assert np.max(np.abs(drawn - dist[mid])) < 30.0
    matplotlib.pyplot.close(fig)


def test_space_time_along_a_path_in_a_tree(tree_run):
    fig = plotting.plot_space_time(tree_run, path=(0.0, {"swc_id": max(tree_run.cell.morphology.tips())}))
    assert_labelled(fig)
    mesh = fig.axes[0].collections[0]
    assert mesh.get_array().size > 0
    matplotlib.pyplot.close(fig)


def test_latency_and_voltage_maps(tree_run):
    fig = plotting.plot_latency_map(tree_run, stimuli=[0.0])
    assert_labelled(fig)
    lines = fig.axes[0].collections[0]
    children = np.flatnonzero(tree_run.cell.compartments.parent >= 0)
    np.testing.assert_array_equal(np.ma.filled(lines.get_array(), np.nan), tree_run.crossings[children])
    matplotlib.pyplot.close(fig)
    fig = plotting.plot_voltage_map(tree_run, time=2.0, stimuli=[0.0])
    assert_labelled(fig)
    assert fig.axes[0].get_title() == "t = 2.00 ms"
    matplotlib.pyplot.close(fig)


def test_raster():
    fig = plotting.plot_raster([np.array([1.0, 5.0]), np.array([]), np.array([3.0])])
    assert_labelled(fig)
    matplotlib.pyplot.close(fig)


def test_plot_result_default(cable_run, tree_run):
    fig = plotting.plot_result(cable_run)
    assert_labelled(fig)
    assert len([ax for ax in fig.axes if not hasattr(ax, "_colorbar")]) == 2  # traces, space-time
    matplotlib.pyplot.close(fig)
    fig = plotting.plot_result(tree_run)
    assert_labelled(fig)
    assert len([ax for ax in fig.axes if not hasattr(ax, "_colorbar")]) == 3  # and the latency map
    matplotlib.pyplot.close(fig)


def test_bad_input(cable_run, point_run):
    _, res = point_run
    with pytest.raises(hc.InputError, match="no probe"):
        plotting.plot_gates(res, names=("q",))
    with pytest.raises(hc.InputError, match="record_space"):
        plotting.plot_space_time(res)
    with pytest.raises(hc.InputError, match="plane"):
        plotting.plot_morphology(cable_run.cell, plane="xq")
    with pytest.raises(hc.InputError, match="one entry per node"):
        plotting.plot_morphology(cable_run.cell, values=np.zeros(3))
    with pytest.raises(hc.InputError, match="pair"):
        plotting.plot_space_time(cable_run, path=(0.0,))
    matplotlib.pyplot.close("all")


def test_plot_result_says_when_there_is_nothing_to_trace(cable_run):
    """A model without probes gets a figure that says so, not an empty panel; with stimuli the
    current is drawn under the traces and marked on the space–time map."""
    import dataclasses

    bare = dataclasses.replace(cable_run, traces=cable_run.traces[:0], names=[], nodes=cable_run.nodes[:0])
    fig = plotting.plot_result(bare)
    assert any("no probes" in t.get_text() for ax in fig.axes for t in ax.texts)
    stim = [(0, hc.IClamp(0.5, 0.5, 1.0))]
    fig = plotting.plot_result(cable_run, stimuli=stim)
    assert_labelled(fig)
    assert_stimulus_drawn(fig)
    assert sum(a.get_gid() == plotting.STIMULUS_GID for ax in fig.axes for a in ax.get_children()) >= 2

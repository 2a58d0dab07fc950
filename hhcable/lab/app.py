"""The lab's Panel app: controls around each experiment, served in the browser or shown in Jupyter.

In a notebook::

    import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, Range1d
from bokeh.plotting import figure as bokeh_figure
    from hhcable.lab.app import build_app
    pn.extension()
    build_app()

From the shell: ``hhcable lab`` (see :func:`serve`).  Every change of a control re-runs the
experiment in a worker thread; a run that lasts longer than :data:`SHOW_PROGRESS_AFTER_S`
shows a progress bar fed by the engine's ``progress`` callback.  Changes made during a run
are not lost: the experiment runs once more, with the latest values, when it ends.  The axon
experiment adds a :class:`SpikePlayer` that steps through v(x) along the axon, frame by frame.
"""

import asyncio
import time

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, Range1d
from bokeh.plotting import figure as bokeh_figure

from ..errors import HHCableError
from . import experiments as E

#: Seconds a run goes on before its progress bar appears.
SHOW_PROGRESS_AFTER_S = 1.0
#: Seconds between updates of the progress bar.
POLL_S = 0.2
#: Width (px) of the figures.
FIGURE_WIDTH = 980
#: Experiments whose spike the lab animates along the cable.
ANIMATED = ("axon",)
#: Milliseconds between frames of the animation as it plays.
FRAME_INTERVAL_MS = 80
#: Voltage range (mV) of the animation's axis: rest to beyond the peak, fixed so frames compare.
ANIMATION_MV = (-90.0, 60.0)


def _num(value, fmt, unit=""):
    return "—" if value is None else f"{value:{fmt}}{unit}"


def _point_neuron_text(n):
    first = "" if n["first_spike_ms"] is None else f", the first at **{n['first_spike_ms']:.2f} ms**"
    return (f"**{n['n_spikes']} spike{'s' if n['n_spikes'] != 1 else ''}**{first}; "
            f"rate during the step **{n['rate_hz']:.0f} Hz**; rest {n['rest_mV']:g} mV")


def _passive_text(n):
    return (f"λ = **{n['lambda_um']:.0f} µm**, τ = **{n['tau_ms']:.1f} ms**, L/λ = {n['electrotonic_length']:.2f}; "
            f"input resistance **{n['input_resistance_MOhm']:.1f} MΩ** simulated, "
            f"**{n['input_resistance_theory_MOhm']:.1f} MΩ** cable theory; "
            f"largest profile difference {n['profile_max_error']:.1e}")


def _axon_text(n):
    law = f"sqrt(d) law: **{n['cv_sqrt_law_m_s']:.3f} m/s**" + (
        "" if n["sqrt_law_applies"] else " (its constant is for 18.5 °C and the standard densities)")
    if n["cv_m_s"] is None:
        return f"measured velocity: **no spike crossed** ({n.get('error', '')}); {law}"
    return (f"measured velocity: **{n['cv_m_s']:.3f} m/s**; {law}; "
            f"{n['n_compartments']} compartments over {n['length_um'] / 1000:.2f} mm")


def _y_text(n):
    verdict = "the spike **passes**" if n["passes"] else "the spike is **blocked**"
    return (f"Σd^1.5 / d_p^1.5 = **{n['rall_ratio']:.2f}**: {verdict}; velocity parent "
            f"**{_num(n['cv_parent_m_s'], '.3f', ' m/s')}**, daughter **{_num(n['cv_daughter_m_s'], '.3f', ' m/s')}**; "
            f"junction delay {_num(n['junction_delay_ms'], '.2f', ' ms')}")


def _real_text(n):
    units = "" if n["scale"] == 1.0 else " (the file is in nanometres: read with scale 0.001)"
    return (f"{n['n_compartments']} compartments{units}; the spike reached **{100 * n['reached']:.0f} %** of them, "
            f"the last **{_num(n['latest_ms'], '.2f', ' ms')}** after onset; mean velocity to the farthest point "
            f"**{_num(n['far_velocity_m_s'], '.3f', ' m/s')}**")


def _controls():
    """Per experiment: its controls (keyword -> widget), what it teaches, and how its numbers read."""
    f, s = pn.widgets.FloatInput, pn.widgets.Select
    return {
        "point neuron": (
            {"amp": pn.widgets.EditableFloatSlider(name="current (µA/cm²)", start=0.0, end=50.0, step=0.5,
                                                   value=10.0),
             "dur": f(name="step duration (ms)", value=50.0, start=0.1, end=200.0),
             "convention": s(name="voltage convention", options=["modern", "1952"], value="modern"),
             "celsius": f(name="temperature (°C)", value=6.3, start=0.0, end=40.0)},
            "A patch of squid membrane, space-clamped. Find the threshold current, the onset of repetitive "
            "firing (about 6.3 µA/cm² at 6.3 °C), and watch the limit cycle in the phase plane. The 1952 "
            "convention puts rest at 0 mV with depolarisation positive, as Hodgkin and Huxley wrote it.",
            _point_neuron_text),
        "passive cable": (
            {"diam": f(name="diameter (µm)", value=2.0, start=0.1, end=100.0),
             "length": f(name="length (µm)", value=1000.0, start=10.0, end=20000.0),
             "Rm": f(name="membrane resistance Rm (Ω·cm²)", value=10000.0, start=100.0, end=200000.0),
             "Ra": f(name="axial resistivity Ra (Ω·cm)", value=100.0, start=1.0, end=1000.0),
             "end": s(name="far end", options=["sealed", "killed"], value="sealed")},
            "A steady current into one end of a passive cable. λ = sqrt(d Rm / 4 Ra) and τ = Rm cm: "
            "the dots are the simulator, the lines cable theory (hhcable.theory). A sealed end holds the "
            "voltage up; a killed end pulls it to rest. The injected end charges faster than a patch.",
            _passive_text),
        "axon": (
            {"diam": f(name="diameter (µm)", value=1.0, start=0.1, end=1000.0),
             "celsius": f(name="temperature (°C)", value=18.5, start=0.0, end=30.0),
             "Ra": f(name="axial resistivity Ra (Ω·cm)", value=35.4, start=1.0, end=1000.0),
             "gnabar": f(name="Na density gnabar (S/cm²)", value=0.12, start=0.0, end=1.0, step=0.01),
             "gkbar": f(name="K density gkbar (S/cm²)", value=0.036, start=0.0, end=1.0, step=0.005)},
            "An HH axon stimulated at its left end. The velocity is measured between 30 % and 70 % of its "
            "length and set beside Hodgkin and Huxley's 18.8 m/s at 476 µm scaled by sqrt(d / Ra). Quadruple "
            "the diameter: the velocity doubles. Warm it: the spike speeds up, then, in this model near 29 °C, "
            "dies out before the far end (heat block): Na inactivation and K activation catch up with Na "
            "activation, and the spike is too small and brief to excite the axon ahead.",
            _axon_text),
        "Y junction": (
            {"parent_diam": f(name="parent diameter (µm)", value=2.0, start=0.1, end=20.0),
             "daughter_diam": f(name="daughter diameter, each (µm)", value=1.26, start=0.1, end=40.0),
             "celsius": f(name="temperature (°C)", value=18.5, start=0.0, end=30.0)},
            "A parent axon splits into two equal daughters. When Σd^1.5 of the daughters equals the "
            "parent's d^1.5 (Rall's 3/2 rule, ratio 1) the junction is invisible; thick daughters load it "
            "(impedance mismatch): the spike is delayed, and blocked when the mismatch is large.",
            _y_text),
        "real neuron": (
            {"swc": s(name="morphology (SWC)", options=E.morphology_files(), value="bmtk__Pvalb_470522102_m.swc"),
             "amp": f(name="somatic current (nA)", value=2.0, start=0.0, end=100.0),
             "Ra": f(name="axial resistivity Ra (Ω·cm)", value=100.0, start=1.0, end=1000.0)},
            "A real neuron with HH channels everywhere (the SWC files carry no channels: this shows "
            "propagation through real branching, not a model of the cell). Colour: when each place "
            "first crossed 0 mV after the somatic current began.",
            _real_text),
    }


class SpikePlayer:
    """v(x) along the cable, one frame of the space–time recording at a time, and a Player.

    A light Bokeh line whose data are replaced per frame; :func:`experiments.space_frames`
    chooses at most :data:`experiments.MAX_FRAMES` frames of the recording.
    """

    def __init__(self):
        self.frames = None
        self.source = ColumnDataSource({"x": [], "v": []})
        plot = bokeh_figure(height=260, width=FIGURE_WIDTH - 20, x_axis_label="distance along the axon (µm)",
                            y_axis_label="membrane potential (mV)", toolbar_location=None,
                            y_range=Range1d(*ANIMATION_MV))
        plot.line("x", "v", source=self.source, line_width=2)
        self.plot = pn.pane.Bokeh(plot, css_classes=["lab-animation"])
        self.player = pn.widgets.Player(start=0, end=1, value=0, loop_policy="once",
                                        interval=FRAME_INTERVAL_MS, width=420, css_classes=["lab-player"])
        self.time = pn.pane.Markdown("", css_classes=["lab-player-time"])
        self.player.param.watch(self._show, "value")
        self.layout = pn.Column(pn.pane.Markdown("**Watch the spike travel** (press play):"),
                                pn.Row(self.player, self.time), self.plot)

    def show(self, result):
        """Take the frames of ``result`` and show the first."""
        self.frames = E.space_frames(result)
        self.player.end = len(self.frames["t_ms"]) - 1
        if self.player.value == 0:
            self._draw(0)
        else:
            self.player.value = 0  # drawn by the watcher

    def _show(self, event):
        if self.frames is not None:
            self._draw(int(np.clip(event.new, 0, len(self.frames["t_ms"]) - 1)))

    def _draw(self, k):
        # A Bokeh model changed outside a widget's callback (after a run) must unlock the
        # session's document; without a session this does nothing.
        with pn.io.unlocked():
            self.source.data = {"x": self.frames["x_um"], "v": self.frames["v_mV"][k]}
        self.time.object = f"t = **{self.frames['t_ms'][k]:.2f} ms**"


class Experiment:
    """One experiment's controls, numbers, figure and progress bar, re-run on every change."""

    def __init__(self, name, widgets, about, describe):
        self.name, self.widgets, self.describe = name, widgets, describe
        self.func = E.EXPERIMENTS[name]
        slug = name.replace(" ", "-")
        for key, widget in widgets.items():
            widget.css_classes = [f"lab-{key}"]
            widget.param.watch(self._changed, "value")
        self.numbers = pn.pane.Markdown("", css_classes=["lab-numbers"], sizing_mode="stretch_width")
        self.figure = pn.pane.Matplotlib(None, dpi=96, width=FIGURE_WIDTH, css_classes=["lab-figure"])
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, width=300,
                                               css_classes=["lab-progress"])
        self.runs = 0  # completed runs (the browser test waits on it through the "run" line)
        self.state = pn.pane.Markdown("", css_classes=["lab-state"])
        self.busy, self.again = False, False
        self.animation = SpikePlayer() if name in ANIMATED else None
        shown = [self.numbers, self.figure] + ([self.animation.layout] if self.animation else [])
        self.layout = pn.Row(
            pn.Column(pn.pane.Markdown(about, width=300), *widgets.values(), self.progress, self.state, width=320),
            pn.Column(*shown),
            css_classes=[f"lab-{slug}"], name=name)

    def values(self):
        return {key: w.value for key, w in self.widgets.items()}

    def _changed(self, event):
        if self.busy:
            self.again = True
        else:
            pn.state.execute(self.run)

    async def run(self):
        """Run with the current values (again, if they changed meanwhile) and show the outcome."""
        self.busy = True
        try:
            while True:
                self.again = False
                await self._run_once(self.values())
                if not self.again:
                    break
        finally:
            self.busy = False

    async def _run_once(self, values):
        done = [0, 1]
        self.state.object = "running…"
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, lambda: self.func(**values, progress=lambda k, n: done.__setitem__(
            slice(None), [k, n])))
        start = time.monotonic()
        while not future.done():
            await asyncio.sleep(POLL_S)
            if time.monotonic() - start > SHOW_PROGRESS_AFTER_S:
                self.progress.visible = True
                self.progress.value = int(100 * done[0] / max(done[1], 1))
        self.progress.visible = False
        try:
            outcome = future.result()
        except HHCableError as err:
            self.state.object = f"error: {err}"
            return
        self.figure.object = outcome.figure
        self.numbers.object = self.describe(outcome.numbers)
        if self.animation is not None:
            self.animation.show(outcome.result)
        self.runs += 1
        self.state.object = f"run {self.runs} done in {time.monotonic() - start:.2f} s"


def build_app():
    """The lab: one tab per experiment, each run once with its default values as it loads.

    Returns
    -------
    panel.Tabs
    """
    experiments = [Experiment(name, *spec) for name, spec in _controls().items()]
    for exp in experiments:
        pn.state.onload(exp.run)
    return pn.Column(
        pn.pane.Markdown("# hhcable lab\nHodgkin–Huxley membranes, cables and neurons: change a value and the "
                         "experiment runs again on the same engine as `hhcable run`."),
        pn.Tabs(*(exp.layout for exp in experiments), dynamic=False),
        sizing_mode="stretch_width")


def serve(port=5006, show=True):
    """Serve the lab on ``http://127.0.0.1:port/`` until interrupted (only this machine can connect)."""
    pn.extension()
    pn.serve(build_app, port=port, address="127.0.0.1", show=show, title="hhcable lab",
             websocket_origin=[f"127.0.0.1:{port}", f"localhost:{port}"], print_url=False)

"""Time stepping: stimuli, probes, and the implicit voltage / exponential-Euler gate loop.

Each step (NEURON's fixed-step order):

1. every mechanism adds its conductance ``g`` and ``g * e`` at the present voltage and gates;
2. the voltage is advanced implicitly, solving ``(C/dt + g + L) v' = C/dt v + g e + I_stim``
   (backward Euler; Crank–Nicolson solves the same system over dt/2 and extrapolates,
   ``v' = 2 v_half - v``, as NEURON's ``secondorder = 2``);
3. the gates are advanced by exponential Euler at the new voltage, so they stay half a step
   apart from the voltage.

Stimuli are sampled at the middle of each step.  Nothing in the loop iterates over
compartments.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from .cell import Cell
from .errors import InputError, MemoryLimitError
from .solver import TreeSolver
from .stimulus import IClamp, PulseTrain, Waveform
from .units import NF_PER_UF_CM2_UM2, US_PER_S_CM2_UM2

METHODS = ("backward_euler", "crank_nicolson")
#: Default ceiling (bytes) on whole-cell recordings; raise it with ``record_space(max_bytes=...)``.
DEFAULT_MAX_RECORD_BYTES = 2 * 1024**3


@dataclass
class Result:
    """What a run produced.

    Attributes
    ----------
    t : ndarray, ms
        Time of each recorded sample (every step, the initial state included).
    traces : ndarray, shape (n_probes, len(t))
        One row per probe, in the order of :attr:`names` (mV for voltages, 1 for gates,
        mA/cm² for currents).
    names : list of str
        Probe names.
    nodes : ndarray of int
        Node of each probe.
    cell : Cell
        The simulated cell.
    crossings : ndarray, ms, or None
        First upward crossing of :attr:`threshold` at every node (NaN where none), if
        crossings were recorded.
    threshold : float, mV, or None
        Threshold used for :attr:`crossings`.
    space_t : ndarray, ms, or None
        Times of the whole-cell frames, if recorded.
    space_v : ndarray, mV, shape (len(space_t), n_nodes), or None
        Voltage of every node at each frame.
    run_wall_s : float, s
        Wall time spent stepping.
    """

    t: np.ndarray
    traces: np.ndarray
    names: list
    nodes: np.ndarray
    cell: Cell
    crossings: np.ndarray = None
    threshold: float = None
    space_t: np.ndarray = None
    space_v: np.ndarray = None
    run_wall_s: float = 0.0
    info: dict = field(default_factory=dict)

    def __getitem__(self, name):
        """The trace of the probe called ``name``."""
        try:
            return self.traces[self.names.index(name)]
        except ValueError:
            raise KeyError(f"no probe named {name!r}; probes: {self.names}") from None


@dataclass
class _Probe:
    name: str
    node: int
    var: str


@dataclass
class _Insertion:
    mechanism: object
    nodes: object  # slice (contiguous run) or index array
    states: np.ndarray = None


def _as_index(nodes):
    """A slice for a contiguous run of nodes (views, no copies), else the index array."""
    if len(nodes) and nodes[-1] - nodes[0] + 1 == len(nodes):
        return slice(int(nodes[0]), int(nodes[-1]) + 1)
    return nodes


class Simulation:
    """Simulate a cell with stimuli and probes.

    Parameters
    ----------
    cell : Cell
    dt : float, ms
        Time step (default 0.025).
    method : {"backward_euler", "crank_nicolson"}
        Voltage integrator.
    v_init : float, mV
        Initial voltage everywhere; gates start at their steady state there.

    Examples
    --------
    >>> import hhcable as hc
    >>> cell = hc.Cell(hc.Morphology.cable(length=2000.0, diam=2.0), max_segment=20.0)
    >>> _ = cell.insert(hc.HH())
    >>> sim = hc.Simulation(cell, dt=0.025)
    >>> sim.iclamp(at=0.0, delay=1.0, dur=0.5, amp=2.0)
    >>> sim.probe("far", at=0.9)
    >>> res = sim.run(tstop=10.0)
    >>> len(hc.spike_times(res.t, res["far"]))
    1
    """

    def __init__(self, cell, dt=0.025, method="backward_euler", v_init=-65.0):
        if not isinstance(cell, Cell):
            raise InputError(f"expected a Cell, got {type(cell).__name__}", key="cell")
        if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not (np.isfinite(dt) and dt > 0):
            raise InputError(f"must be a positive number of ms, got {dt!r}", key="dt")
        if method not in METHODS:
            raise InputError(f"unknown method {method!r}; use one of {METHODS}", key="method")
        if not np.isfinite(v_init):
            raise InputError(f"must be a finite voltage in mV, got {v_init!r}", key="v_init")
        self.cell, self.dt, self.method, self.v_init = cell, float(dt), method, float(v_init)
        self.stimuli = []  # (node, stimulus)
        self.probes = []
        self.threshold = None
        self.space_every = None
        self.max_record_bytes = DEFAULT_MAX_RECORD_BYTES
        self.solver = TreeSolver(cell.compartments.parent, cell.compartments.g_axial)

    # -- set-up -----------------------------------------------------------------------------
    def stimulate(self, stimulus, at):
        """Inject ``stimulus`` (IClamp, PulseTrain, Waveform) at location ``at``."""
        self.stimuli.append((self.cell.locate(at), stimulus))

    def iclamp(self, at, delay, dur, amp):
        """A current step at ``at``: onset ``delay`` (ms), duration ``dur`` (ms), ``amp`` (nA)."""
        self.stimulate(IClamp(delay, dur, amp), at)

    def pulse_train(self, at, delay, dur, amp, interval, number):
        """``number`` pulses of ``dur`` (ms) and ``amp`` (nA), onsets every ``interval`` ms from ``delay``."""
        self.stimulate(PulseTrain(delay, dur, amp, interval, number), at)

    def waveform(self, at, t, amp):
        """An arbitrary current: samples ``amp`` (nA) at times ``t`` (ms), linear in between."""
        self.stimulate(Waveform(t, amp), at)

    def probe(self, name, at, var="v"):
        """Record ``var`` at ``at`` every step.

        Parameters
        ----------
        name : str
            Name of the trace in the result.
        at : float, dict or Location
            Where to record.
        var : str
            ``"v"`` (mV), a gate ``"<mechanism>.<state>"`` such as ``"hh.m"`` (1), or a
            current density ``"<mechanism>.<current>"`` such as ``"hh.ina"`` (mA/cm²,
            outward positive).
        """
        if name in (p.name for p in self.probes):
            raise InputError(f"probe name {name!r} is used twice", key="probe.name")
        if var != "v":
            mech, _, state = var.partition(".")
            known = [f"{m.name}.{x}" for m, _ in self.cell.mechanisms for x in (*m.states, *m.current_names)]
            if var not in known:
                raise InputError(f"unknown variable {var!r}; use 'v' or one of {sorted(set(known))}",
                                 key="probe.var")
        self.probes.append(_Probe(name, self.cell.locate(at), var))

    def record_crossings(self, threshold=0.0):
        """Record the first upward crossing of ``threshold`` (mV) at every node."""
        if not np.isfinite(threshold):
            raise InputError(f"must be a finite voltage, got {threshold!r}", key="threshold_mV")
        self.threshold = float(threshold)

    def record_space(self, every=1, max_bytes=None):
        """Record the voltage of every node every ``every`` steps.

        The memory this takes is checked when the run starts and the run is refused if it
        exceeds ``max_bytes`` (default 2 GiB).
        """
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise InputError(f"must be a positive integer number of steps, got {every!r}", key="every")
        self.space_every = int(every)
        if max_bytes is not None:
            self.max_record_bytes = float(max_bytes)

    # -- running --------------------------------------------------------------------------
    def _insertions(self, v):
        out = []
        for mech, nodes in self.cell.mechanisms:
            mech.prepare(self.cell.celsius, self.dt)
            index = _as_index(nodes)
            out.append(_Insertion(mech, index, mech.steady_state(v[index])))
        return out

    def _mechanism_reader(self, insertions, probe):
        """A function of the present voltage returning the probed gate or current."""
        mech, _, var = probe.var.partition(".")
        for ins in insertions:
            if ins.mechanism.name != mech:
                continue
            nodes = np.arange(self.cell.compartments.n_nodes)[ins.nodes]
            where = np.flatnonzero(nodes == probe.node)
            if not where.size:
                continue
            col = int(where[0])
            if var in ins.mechanism.states:
                row = ins.mechanism.states.index(var)
                return lambda v: ins.states[row, col]
            node = probe.node
            return lambda v: ins.mechanism.currents(ins.states[:, col:col + 1], v[node:node + 1])[var][0]
        raise InputError(f"'{mech}' is not inserted where probe {probe.name!r} is", key="probe.at")

    def run(self, tstop):
        """Run from 0 to ``tstop`` (ms) and return a :class:`Result`."""
        if isinstance(tstop, bool) or not isinstance(tstop, (int, float)) or not (np.isfinite(tstop) and tstop > 0):
            raise InputError(f"must be a positive number of ms, got {tstop!r}", key="tstop")
        comp = self.cell.compartments
        n, dt = comp.n_nodes, self.dt
        n_steps = int(round(tstop / dt))
        if n_steps < 1:
            raise InputError(f"tstop ({tstop} ms) is shorter than one step ({dt} ms)", key="tstop")
        frames = None
        if self.space_every:
            n_frames = n_steps // self.space_every + 1
            need = n_frames * n * 8
            if need > self.max_record_bytes:
                raise MemoryLimitError(
                    f"recording the whole cell needs {need / 1e6:.0f} MB, over the limit of "
                    f"{self.max_record_bytes / 1e6:.0f} MB; record every more steps or raise max_bytes",
                    key="record_space")
            frames = np.empty((n_frames, n))

        v = np.full(n, self.v_init)
        insertions = self._insertions(v)
        crank = self.method == "crank_nicolson"
        solve_dt = dt / 2 if crank else dt
        c_over_dt = self.cell.cm * comp.area * NF_PER_UF_CM2_UM2 / solve_dt  # µS
        g_scale = comp.area * US_PER_S_CM2_UM2  # µS per S/cm²

        t = np.arange(n_steps + 1) * dt
        stim_nodes = np.array([node for node, _ in self.stimuli], dtype=int)
        stim_amp = np.array([s.current(t[:-1] + dt / 2) for _, s in self.stimuli]).T  # (steps, n_stim)

        v_probes = [i for i, p in enumerate(self.probes) if p.var == "v"]
        v_probe_nodes = np.array([self.probes[i].node for i in v_probes], dtype=int)
        mech_probes = [(i, self._mechanism_reader(insertions, p)) for i, p in enumerate(self.probes) if p.var != "v"]
        traces = np.empty((n_steps + 1, len(self.probes)))

        def record(k):
            traces[k, v_probes] = v[v_probe_nodes]
            for i, read in mech_probes:
                traces[k, i] = read(v)
            if frames is not None and k % self.space_every == 0:
                frames[k // self.space_every] = v

        crossings = above = None
        if self.threshold is not None:
            crossings = np.full(n, np.nan)
            above = v >= self.threshold
        g = np.empty(n)
        ge = np.empty(n)
        record(0)
        start = time.perf_counter()
        for k in range(n_steps):
            g.fill(0.0)
            ge.fill(0.0)
            for ins in insertions:
                idx = ins.nodes
                if isinstance(idx, slice):
                    ins.mechanism.conductance(ins.states, v[idx], g[idx], ge[idx])
                else:
                    gi, gei = np.zeros(len(idx)), np.zeros(len(idx))
                    ins.mechanism.conductance(ins.states, v[idx], gi, gei)
                    g[idx] += gi
                    ge[idx] += gei
            d = c_over_dt + g_scale * g
            b = c_over_dt * v + g_scale * ge
            if len(stim_nodes):
                np.add.at(b, stim_nodes, stim_amp[k])
            v_new = self.solver.solve(d, b)
            if crank:
                v_new = 2.0 * v_new - v
            if crossings is not None:
                now_above = v_new >= self.threshold
                up = np.flatnonzero(now_above & ~above & np.isnan(crossings))
                if up.size:
                    frac = (self.threshold - v[up]) / (v_new[up] - v[up])
                    crossings[up] = t[k] + frac * dt
                above = now_above
            v = v_new
            for ins in insertions:
                ins.mechanism.advance(ins.states, v[ins.nodes], dt)
            record(k + 1)
        wall = time.perf_counter() - start

        return Result(
            t=t,
            traces=traces.T.copy(),
            names=[p.name for p in self.probes],
            nodes=np.array([p.node for p in self.probes], dtype=int),
            cell=self.cell,
            crossings=crossings,
            threshold=self.threshold,
            space_t=None if frames is None else t[:: self.space_every],
            space_v=frames,
            run_wall_s=wall,
            info={"dt": dt, "method": self.method, "n_steps": n_steps},
        )

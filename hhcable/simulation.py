"""Simulations: a cell with stimuli, probes and recordings, and what a run returns.

The time loop itself is in :mod:`hhcable.engine`, which steps one or many simulations as a
single system.
"""

from dataclasses import dataclass, field

import numpy as np

from . import validate
from .cell import Cell
from .engine import BACKENDS, Engine, check_backend, check_threads
from .errors import InputError
from .solver import TreeSolver
from .stimulus import IClamp, PulseTrain, Waveform

METHODS = ("backward_euler", "crank_nicolson")
#: Default ceiling (bytes) on what a run records (probes, stimulus samples, crossings, whole
#: cells); raise it with ``record_space(max_bytes=...)``.
DEFAULT_MAX_RECORD_BYTES = 2 * 1024**3

__all__ = ["Simulation", "Result", "BACKENDS", "METHODS"]


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
    backend : {"auto", "numpy", "numba"}
        Who steps the run: ``"auto"`` (default) the compiled kernel, generated from the
        channels, where numba is installed, else numpy; ``"numpy"`` the reference loop;
        ``"numba"`` the kernel or an InputError.  ``Result.info["backend"]`` says which ran.
    threads : int, optional
        Threads stepping the compiled kernel (numba; numpy steps on one).  None (default):
        every core numba may use (``numba.config.NUMBA_NUM_THREADS``) when the model has at
        least :data:`hhcable.engine.THREADS_MIN_NODES` nodes, else one; ``1``: one thread.
        A batch of cells is shared out whole cells at a time (results bit for bit those of
        one thread); a single large cell is split at one node into pieces (results equal to
        one thread's to round-off).  ``Result.info["threads"]`` says how many stepped.

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

    def __init__(self, cell, dt=0.025, method="backward_euler", v_init=-65.0, backend="auto", threads=None):
        if not isinstance(cell, Cell):
            raise InputError(f"expected a Cell, got {type(cell).__name__}", key="cell")
        dt = validate.real(dt, "dt", validate.DT_MS, positive=True)
        if method not in METHODS:
            raise InputError(f"unknown method {method!r}; use one of {METHODS}", key="method")
        v_init = validate.real(v_init, "v_init", validate.VOLTAGE_MV)
        validate.warn_if_dt_too_long(dt, cell)
        self.cell, self.dt, self.method, self.v_init = cell, dt, method, v_init
        self.backend = check_backend(backend)
        self.threads = check_threads(threads)
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
            known = [f"{m.name}.{x}" for m, _ in self.cell.mechanisms
                     for x in (*m.spec().gate_names, *m.spec().current_names)]
            if var not in known:
                raise InputError(f"unknown variable {var!r}; use 'v' or one of {sorted(set(known))}",
                                 key="probe.var")
        self.probes.append(_Probe(name, self.cell.locate(at), var))

    def record_crossings(self, threshold=0.0):
        """Record the first upward crossing of ``threshold`` (mV) at every node."""
        self.threshold = validate.real(threshold, "threshold_mV", validate.VOLTAGE_MV)

    def record_space(self, every=1, max_bytes=None):
        """Record the voltage of every node every ``every`` steps.

        The memory everything the run records takes is checked when the run starts, before
        anything is allocated, and the run is refused if it exceeds ``max_bytes`` (default 2 GiB).
        """
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise InputError(f"must be a positive integer number of steps, got {every!r}", key="every")
        self.space_every = int(every)
        if max_bytes is not None:
            self.max_record_bytes = validate.real(max_bytes, "max_bytes", positive=True)

    def record_bytes(self, n_steps):
        """Memory (bytes) what a run of ``n_steps`` steps records for this simulation needs.

        Probe traces, stimulus samples (one per step and stimulated place), crossings, and
        whole-cell frames if recorded.
        """
        item = np.dtype(float).itemsize
        n_nodes = self.cell.compartments.n_nodes
        total = (n_steps + 1) * len(self.probes) * item + n_steps * len({node for node, _ in self.stimuli}) * item
        total += 2 * n_nodes * item if self.threshold is not None else 0
        if self.space_every:
            total += (n_steps // self.space_every + 1) * n_nodes * item
        return total

    # -- running --------------------------------------------------------------------------
    def run(self, tstop, progress=None):
        """Run from 0 to ``tstop`` (ms) and return a :class:`Result`.

        ``progress``, if given, is called as ``progress(done_steps, total_steps)`` every few
        tenths of a second and at the end (see :meth:`hhcable.engine.Engine.run`).
        """
        return Engine([self], backend=self.backend, threads=self.threads).run(tstop, progress)[0]

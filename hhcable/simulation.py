"""Simulations: a cell with stimuli, probes and recordings, and what a run returns.

The time loop itself is in :mod:`hhcable.engine`, which steps one or many simulations as a
single system.
"""

from dataclasses import dataclass, field

import numpy as np

from . import validate
from .cell import Cell
from .engine import BACKENDS, Engine, check_backend, check_threads
from .extracellular_run import EXTRACELLULAR_VARS
from .errors import InputError
from .solver import TreeSolver
from .stimulus import IClamp, PulseTrain, Stimulus, Waveform

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
        mA/cm² for current densities, nA for ``i_membrane``, mV for ``vext``), then one per
        extracellular recording (mV).
    names : list of str
        Probe names, then recording names.
    nodes : ndarray of int
        Node of each probe (-1 for an extracellular recording).
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
        one thread with rate tables, to round-off with exact rates); a single large cell is
        split at one node into pieces, an unbranched cable on two threads into four lanes
        (results equal to one thread's to round-off).  ``Result.info["threads"]`` says how
        many stepped.

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
        self.applied = []  # (transfer per node, stimulus): applied extracellular potentials
        self.recordings = []  # (name, weights per node): extracellular recordings
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

    def apply_extracellular(self, transfer, stimulus):
        """Apply an extracellular potential ``e_extracellular(t) = transfer * stimulus(t)``.

        As NEURON's ``e_extracellular`` of the ``extracellular`` mechanism: the potential of
        the medium at every node (each step's mean, as for current stimuli).  Where the cell
        has no layer (:meth:`~hhcable.cell.Cell.insert_extracellular`) it is the potential
        just outside the membrane (NEURON's ``xg``, ``xraxial`` -> infinity); where it has
        one, the layer reaches it through ``xg`` and ``xc``.  Several calls add.

        Parameters
        ----------
        transfer : ndarray, shape (n_nodes,), mV per unit of the stimulus
            For example ``1 / (4 pi sigma r)`` for a point electrode (mV/µA or mV/nA).
        stimulus : Stimulus
            An :class:`~hhcable.stimulus.IClamp`, :class:`~hhcable.stimulus.PulseTrain` or
            :class:`~hhcable.stimulus.Waveform` whose amplitude is in that unit.
        """
        if not isinstance(stimulus, Stimulus):
            raise InputError(f"expected a Stimulus (IClamp, PulseTrain, Waveform), got {stimulus!r}",
                             key="stimulus")
        self.applied.append((self._per_node(transfer, "transfer"), stimulus))

    def stimulate_extracellular(self, electrode, stimulus):
        """Pass ``stimulus`` (amplitude in µA, negative cathodic) through ``electrode`` (a
        :class:`~hhcable.extracellular.PointElectrode`): :meth:`apply_extracellular` of its potential."""
        self.apply_extracellular(electrode.potential(self.cell), stimulus)

    def record_extracellular(self, name, weights):
        """Record ``sum_i weights[i] * I_i(t)`` (mV) every step as the trace ``name``.

        ``I_i`` (nA) is the current node ``i`` passes into the extracellular medium: its total
        membrane current (capacitive and ionic, outward positive: NEURON's ``i_membrane_``)
        where it has no layer, and the current through the layer's ``xg`` and ``xc`` where it
        has one.  With ``weights`` the potential per unit current of each node at an electrode
        (mV/nA, for example ``1 / (4 pi sigma r)``), the trace is the electrode's potential.

        Parameters
        ----------
        name : str
            Name of the trace in the result (shared with the probes' names).
        weights : ndarray, shape (n_nodes,), mV/nA
        """
        self._check_name(name)
        self.recordings.append((name, self._per_node(weights, "weights")))

    def _per_node(self, values, key):
        """``values`` as a float array with one finite number per node of the cell."""
        n = self.cell.compartments.n_nodes
        try:
            array = np.array(values, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"must be an array of {n} numbers (one per node), got {type(values).__name__}",
                             key=key) from None
        if array.shape != (n,):
            raise InputError(f"must have one value per node, shape ({n},); got shape {array.shape}", key=key)
        if not np.all(np.isfinite(array)):
            raise InputError(f"must be finite; node {int(np.flatnonzero(~np.isfinite(array))[0])} is not", key=key)
        return array

    def _check_name(self, name):
        if name in (p.name for p in self.probes) or name in (r for r, _ in self.recordings):
            raise InputError(f"probe name {name!r} is used twice", key="probe.name")

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
            outward positive), ``"i_membrane"``, the node's total membrane current
            (capacitive and ionic, nA, outward positive, NEURON's ``i_membrane_``), or
            ``"vext"``, the potential of the extracellular layer (mV; where the cell has no
            layer, the applied ``e_extracellular``).
        """
        self._check_name(name)
        if var not in ("v", *EXTRACELLULAR_VARS):
            mech, _, state = var.partition(".")
            known = [f"{m.name}.{x}" for m, _ in self.cell.mechanisms
                     for x in (*m.spec().gate_names, *m.spec().current_names)]
            if var not in known:
                raise InputError(f"unknown variable {var!r}; use 'v', 'i_membrane', 'vext' or one of "
                                 f"{sorted(set(known))}",
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

        Probe traces, extracellular recordings, stimulus samples (one per step and stimulated
        place or applied potential), crossings, and whole-cell frames if recorded.
        """
        item = np.dtype(float).itemsize
        n_nodes = self.cell.compartments.n_nodes
        total = (n_steps + 1) * (len(self.probes) + len(self.recordings)) * item
        total += n_steps * (len({node for node, _ in self.stimuli}) + len(self.applied)) * item
        total += 2 * n_nodes * item if self.threshold is not None else 0
        if self.space_every:
            total += (n_steps // self.space_every + 1) * n_nodes * item
        return total

    # -- running --------------------------------------------------------------------------
    @property
    def uses_extracellular(self):
        """Whether a run needs the extracellular engine (a layer, an applied potential, a
        recording, or a membrane-current or layer probe)."""
        return bool(self.cell.layer is not None or self.applied or self.recordings
                    or any(p.var in EXTRACELLULAR_VARS for p in self.probes))

    def run(self, tstop, progress=None):
        """Run from 0 to ``tstop`` (ms) and return a :class:`Result`.

        ``progress``, if given, is called as ``progress(done_steps, total_steps)`` every few
        tenths of a second and at the end (see :meth:`hhcable.engine.Engine.run`).
        """
        return Engine([self], backend=self.backend, threads=self.threads).run(tstop, progress)[0]

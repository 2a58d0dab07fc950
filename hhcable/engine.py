"""The stepping engine: one time loop for one simulation or many, on numpy or numba.

:class:`~hhcable.simulation.Simulation` and :class:`~hhcable.batch.Batch` both run here.
The cells of all simulations become one forest (one block-diagonal matrix, every cell's
nodes consecutive).  The channels inserted in them become **groups**: one per channel class,
temperature, ``use_table`` and values of the parameters the kinetics depend on, with the
other parameters per node where cells differ.  The engine owns all run state: the gate
arrays, the temperature factors and the rate tables live in the groups, made fresh for each
run; the channel objects the user inserted are only read, so one object may be shared by
cells at different temperatures, in one batch or many.

Each step (NEURON's fixed-step order):

1. every group adds its conductance ``g`` and ``g * e`` at the present voltage and gates;
2. the voltage is advanced implicitly, solving ``(C/dt + g + L) v' = C/dt v + g e + I_stim``
   (backward Euler; Crank–Nicolson solves the same system over dt/2 and extrapolates,
   ``v' = 2 v_half - v``, as NEURON's ``secondorder = 2``);
3. the gates are advanced by exponential Euler at the new voltage, so they stay half a step
   apart from the voltage.

Stimuli enter as their mean current over each step (for pulses that start and end on step
boundaries, the same as NEURON's sample at the middle of the step).  A voltage that stops being finite ends the
run with :class:`~hhcable.errors.SimulationError` naming the time and the place.
"""

import contextlib
import sys
import threading
import time

import numpy as np

from .channels.base import TABLE_DV, TABLE_V_MAX, TABLE_V_MIN, conductances, current_densities, steady_state, \
    table_grid, update_factors
from . import validate
from .errors import InputError, MemoryLimitError, SimulationError
from .extracellular_run import EXTRACELLULAR_VARS, Extracellular
from .solver import TreeSolver
from .units import NF_PER_UF_CM2_UM2, US_PER_S_CM2_UM2

#: Seconds of stepping between calls of a run's progress callback.
PROGRESS_EVERY_S = 0.25
#: Nodes from which a run with ``threads=None`` uses every core: below, the threads' waits for
#: each other (twice a step in a cell split at a pivot, ~1 µs each) cost about what they share
#: out.  Measured on 2 cores, ns per compartment-step on 1 / 2 threads: 202 nodes 17 / 29,
#: squid axon (3,002) 9.7 / 8.7 (exact rates 14 / 8.5), CA1 cell (3,376) 15.8 / 10.4.
THREADS_MIN_NODES = 2_000
#: Who steps a run: the compiled kernel where numba is installed ("auto"), numpy only, or numba only.
BACKENDS = ("auto", "numpy", "numba")


def check_threads(threads):
    """``threads`` if it is None or a positive whole number, else InputError."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise InputError(f"threads must be a whole number >= 1 or None (every core for large models), got "
                         f"{threads!r}", key="threads")
    return int(threads)


def check_backend(backend):
    """``backend`` if it is one of :data:`BACKENDS`, else InputError."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; use one of {BACKENDS}", key="backend")
    return backend


class RateTable:
    """A channel's gate update factors on the table grid, linearly interpolated (as NEURON's TABLE).

    Parameters
    ----------
    cls : Channel subclass
    q : ndarray
        Temperature factor of each gate.
    dt : float, ms
    params : dict
        The kinetic parameters' values.
    """

    def __init__(self, cls, q, dt, params):
        values = update_factors(cls, table_grid(), q, dt, params)
        values = values.reshape(-1, values.shape[-1])  # rows: decays of every gate, then gains
        self.n_gates = values.shape[0] // 2
        self.value = np.ascontiguousarray(values[:, :-1])
        self.slope = np.ascontiguousarray(np.diff(values, axis=1))
        self._work = {}

    def advance(self, states, v):
        """Advance ``states`` (n_gates, n) in place over one step at ``v`` (mV); False if ``v`` is off the table."""
        n = len(v)
        if n == 0:
            return True
        if not (v.min() >= TABLE_V_MIN and v.max() < TABLE_V_MAX):
            return False
        rows = 2 * self.n_gates
        if n not in self._work:
            self._work[n] = (np.empty(n), np.empty(n, dtype=np.intp), np.empty((rows, n)), np.empty((rows, n)))
        x, i, val, slope = self._work[n]
        np.subtract(v, TABLE_V_MIN, out=x)
        x *= 1.0 / TABLE_DV
        np.copyto(i, x, casting="unsafe")  # truncation = floor, as x >= 0
        x -= i
        for q in range(rows):
            self.value[q].take(i, out=val[q])
            self.slope[q].take(i, out=slope[q])
        slope *= x
        val += slope
        states *= val[:self.n_gates]
        states += val[self.n_gates:]
        return True

    def kernel_layout(self):
        """The table as the kernel reads it: (n_grid - 1, 4 n_gates), per gate decay, its slope, gain, its slope."""
        g = self.n_gates
        out = np.empty((self.value.shape[1], 4 * g))
        out[:, 0::4], out[:, 1::4] = self.value[:g].T, self.slope[:g].T
        out[:, 2::4], out[:, 3::4] = self.value[g:].T, self.slope[g:].T
        return out


class Group:
    """One channel class over a set of nodes, with its run state.

    Parameters
    ----------
    cls : Channel subclass
    members : list of (Channel, ndarray)
        The inserted objects and their (batch-wide) nodes.
    celsius : float, °C
    use_table : bool
    dt : float, ms
    area : ndarray, µm²
        Membrane area of every node of the batch.
    v : ndarray, mV
        Initial voltages of the batch.
    """

    def __init__(self, cls, members, celsius, use_table, dt, area, v):
        self.cls, self.spec = cls, cls.spec()
        self.nodes = np.sort(np.concatenate([n for _, n in members]))
        span = _span(self.nodes, area)
        self.index = slice(int(span[0]), int(span[-1]) + 1) if _is_run(span) else span
        self.span = span
        self.columns = np.searchsorted(span, self.nodes)
        self.params = _merge_params(self.spec.params, members, span)
        self.q = self.spec.q10_factors(cls, celsius)
        kinetic = {p: self.params[p] for p in self.spec.kinetic}
        self.table = RateTable(cls, self.q, dt, kinetic) if use_table and self.spec.gates else None
        self.states = steady_state(cls, v[self.index], self.params)

    def conductance(self, v, g, ge):
        """Add the group's conductances (S/cm²) to ``g`` and conductance × reversal to ``ge``."""
        idx = self.index
        for gx, e in conductances(self.cls, self.states, self.params):
            g[idx] += gx
            ge[idx] += gx * e

    def advance(self, v, dt):
        """Advance the gates over ``dt`` (ms) at the new voltages ``v`` (mV)."""
        if not self.spec.gates:
            return
        vg = v[self.index]
        if self.table is not None and self.table.advance(self.states, vg):
            return
        decay, gain = update_factors(self.cls, vg, self.q, dt, self.params)
        self.states *= decay
        self.states += gain

    def reader(self, var, node):
        """A function of the voltage giving gate or current ``var`` at ``node`` (None if not here)."""
        where = np.flatnonzero(self.nodes == node)
        if not where.size:
            return None
        col = int(self.columns[where[0]])
        if var in self.spec.gate_names:
            row = self.spec.gate_names.index(var)
            return lambda v: self.states[row, col]
        params = {p: (x[col] if np.ndim(x) else x) for p, x in self.params.items()}
        return lambda v: current_densities(self.cls, self.states[:, col], v[node], params)[var]


def _is_run(nodes):
    return len(nodes) > 0 and nodes[-1] - nodes[0] + 1 == len(nodes)


def _span(nodes, area):
    """The nodes a group computes on: its run from first to last node if every node in
    between that it lacks has no membrane (section ends), else its own nodes."""
    run = np.arange(nodes[0], nodes[-1] + 1)
    missing = np.setdiff1d(run, nodes, assume_unique=True)
    return run if not np.any(area[missing] > 0) else nodes


def _merge_params(names, members, span):
    """Parameter values of a group: a number where every member agrees, else one per node of ``span``."""
    out = {}
    for key in names:
        values = [m.params[key] for m, _ in members]
        if all(x == values[0] for x in values):
            out[key] = values[0]
        else:
            full = np.zeros(len(span))
            for (_, nodes), x in zip(members, values):
                full[np.searchsorted(span, nodes)] = x
            out[key] = full
    return out


def make_groups(simulations, offsets, dt, area, v):
    """The groups of a batch: one per channel class, temperature, ``use_table`` and kinetic parameters."""
    keyed = {}
    for sim, offset in zip(simulations, offsets):
        for mech, nodes in sim.cell.mechanisms:
            cls = type(mech)
            kinetic = tuple(mech.params[p] for p in cls.spec().kinetic)
            key = (cls, sim.cell.celsius, mech.use_table, kinetic)
            keyed.setdefault(key, []).append((mech, nodes + offset))
    return [Group(cls, members, celsius, use_table, dt, area, v)
            for (cls, celsius, use_table, _), members in keyed.items()]


def record_bytes(simulations, n_steps):
    """Memory (bytes) a run of ``n_steps`` records: time, probes, stimulus samples, crossings, whole cells."""
    item = np.dtype(float).itemsize
    total = (n_steps + 1) * item
    for sim in simulations:
        total += sim.record_bytes(n_steps)
    return total


def _in_dask_worker():
    """Whether this runs inside a dask.distributed worker (only asked if distributed is imported)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


class Engine:
    """Steps a list of simulations as one system (see the module docstring).

    Parameters
    ----------
    simulations : list of Simulation
        Sharing dt and method.
    backend : {"auto", "numpy", "numba"}
    threads : int, optional
        Threads stepping the compiled kernel (see :func:`check_threads`); None: every core
        numba may use when the system has at least :data:`THREADS_MIN_NODES` nodes (and this
        is not a Dask worker), else one.
    """

    def __init__(self, simulations, backend="auto", threads=None):
        self.simulations = simulations
        self.dt, self.method = simulations[0].dt, simulations[0].method
        self.backend = check_backend(backend)
        self.threads = check_threads(threads)
        self.threads_used = 1

    def threads_for(self, n_nodes):
        """Threads for a compiled run of ``n_nodes`` nodes: as asked, at most numba's thread count."""
        import numba

        most = numba.config.NUMBA_NUM_THREADS
        if self.threads is None:
            # A Dask worker already shares the cores out among tasks: threads would oversubscribe them.
            return most if n_nodes >= THREADS_MIN_NODES and not _in_dask_worker() else 1
        return min(self.threads, most)

    def which_backend(self):
        """``"numba"`` or ``"numpy"``: who steps (InputError if numba is asked for and missing)."""
        from . import kernels

        if self.backend == "numpy":
            return "numpy"
        if not kernels.AVAILABLE:
            if self.backend == "numba":
                raise InputError("numba is not installed; use backend='auto' or 'numpy'", key="backend")
            return "numpy"
        return "numba"

    def run(self, tstop, progress=None):
        """Run every simulation from 0 to ``tstop`` (ms); a list of :class:`~hhcable.simulation.Result`.

        ``progress``, if given, is called as ``progress(done_steps, total_steps)`` every
        :data:`PROGRESS_EVERY_S` seconds of stepping or so, and once at the end.
        ``Result.info`` holds ``setup_s`` (s before stepping, compilation included),
        ``compile_s`` (s compiling or loading the compiled kernel; 0 for numpy) and the run
        wall time is ``Result.run_wall_s`` (stepping alone).
        """
        from .simulation import Result

        start = time.perf_counter()
        tstop = validate.real(tstop, "tstop", validate.TIME_MS, positive=True)
        dt, sims = self.dt, self.simulations
        n_steps = validate.n_steps(tstop, dt)
        limit = min(s.max_record_bytes for s in sims)
        need = record_bytes(sims, n_steps)
        if need > limit:
            raise MemoryLimitError(
                f"this run would record {need / 1e6:.0f} MB (time, probes, stimuli, crossings and whole-cell "
                f"frames over {n_steps} steps), over the limit of {limit / 1e6:.0f} MB; shorten tstop, record "
                "fewer probes or whole-cell frames less often, or raise max_bytes", key="record_space")
        backend = self.which_backend()
        self.threads_used = 1

        sizes = [s.cell.compartments.n_nodes for s in sims]
        off = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        comps = [s.cell.compartments for s in sims]
        area = np.concatenate([c.area for c in comps])
        if len(sims) == 1:
            solver = sims[0].solver
        else:
            parent = np.concatenate([np.where(c.parent >= 0, c.parent + o, -1) for c, o in zip(comps, off)])
            solver = TreeSolver(parent, np.concatenate([c.g_axial for c in comps]))
        cm = np.concatenate([s.cell.node_cm for s in sims])
        v = np.concatenate([np.full(n, s.v_init) for s, n in zip(sims, sizes)])
        n = int(off[-1])
        groups = make_groups(sims, off[:-1], dt, area, v)
        crank = self.method == "crank_nicolson"
        c_over_dt = cm * area * NF_PER_UF_CM2_UM2 / (dt / 2 if crank else dt)  # nF/ms = µS
        g_scale = area * US_PER_S_CM2_UM2  # µS per S/cm²
        t = np.arange(n_steps + 1) * dt

        # Stimuli: one column per stimulated node, each step's mean current (its charge over
        # dt, so a pulse shorter than a step still delivers its charge), summed (nA).
        stim = [(node + o, s) for sim, o in zip(sims, off) for node, s in sim.stimuli]
        stim_nodes = np.unique(np.array([node for node, _ in stim], dtype=np.int64))
        stim_amp = np.zeros((n_steps, len(stim_nodes)))
        for node, s in stim:
            stim_amp[:, np.searchsorted(stim_nodes, node)] += s.mean(t[:-1], dt)

        probes = [(p, o + p.node) for sim, o in zip(sims, off) for p in sim.probes]
        traces = np.empty((n_steps + 1, len(probes)))
        # Whole-cell frames: views into one flat buffer (the compiled kernel writes it flat).
        shapes = [(n_steps // s.space_every + 1, s.cell.compartments.n_nodes) if s.space_every else (0, 0)
                  for s in sims]
        starts = np.concatenate([[0], np.cumsum([a * b for a, b in shapes])]).astype(int)
        frame_buffer = np.empty(starts[-1])
        frames = [frame_buffer[o:o + a * b].reshape(a, b) if s.space_every else None
                  for s, o, (a, b) in zip(sims, starts, shapes)]
        recording = [(o, s.space_every, a, b) for s, o, a, b in zip(sims, starts, off[:-1], off[1:])
                     if s.space_every]
        thresholds = np.concatenate([np.full(s.cell.compartments.n_nodes, np.nan if s.threshold is None
                                             else s.threshold) for s in sims])
        crossings = np.full(n, np.nan)
        above = v >= thresholds

        ext = None
        if any(s.uses_extracellular for s in sims):
            ext = Extracellular(sims, off, solver, area, dt, crank, t, stim_nodes, stim_amp)

        loop = _run_numba if backend == "numba" else _run_numpy
        setup = time.perf_counter() - start
        blew_up, wall, compile_s = loop(self, n_steps, crank, solver, groups, c_over_dt, g_scale, v, stim_nodes,
                                        stim_amp, probes, traces, thresholds, crossings, above, t, recording,
                                        frame_buffer, _Progress(progress, n_steps), ext)
        if blew_up is not None:
            self._blow_up(*blew_up, t, off)

        results, first = [], 0
        for j, (sim, f, a, b_) in enumerate(zip(sims, frames, off[:-1], off[1:])):
            cols = slice(first, first + len(sim.probes))
            first += len(sim.probes)
            mine = traces[:, cols].T.copy()
            names, nodes = [p.name for p in sim.probes], [p.node for p in sim.probes]
            if ext is not None and sim.recordings:
                mine = np.concatenate([mine, ext.traces[:, ext.record_cols[j]].T])
                names += [name for name, _ in sim.recordings]
                nodes += [-1] * len(sim.recordings)  # an electrode, at no node
            results.append(Result(
                t=t,
                traces=mine,
                names=names,
                nodes=np.array(nodes, dtype=int),
                cell=sim.cell,
                crossings=None if sim.threshold is None else crossings[a:b_].copy(),
                threshold=sim.threshold,
                space_t=None if f is None else t[:: sim.space_every],
                space_v=f,
                run_wall_s=wall,
                info={"dt": dt, "method": self.method, "n_steps": n_steps, "batch_size": len(sims),
                      "backend": backend, "threads": self.threads_used, "setup_s": setup + compile_s,
                      "compile_s": compile_s},
            ))
        return results

    def _blow_up(self, step, node, t, off):
        cell_index = int(np.searchsorted(off, node, side="right") - 1)
        sim = self.simulations[cell_index]
        local = int(node - off[cell_index])
        where = f"node {local} ({sim.cell.compartments.distance[local]:.1f} µm from the root"
        where += f", cell {cell_index} of the batch)" if len(self.simulations) > 1 else ")"
        raise SimulationError(
            f"the voltage stopped being finite at t = {t[step + 1]:g} ms at {where}; the run is "
            f"unstable: try a smaller dt (now {self.dt} ms), backward Euler, or smaller stimuli",
            t=float(t[step + 1]), node=local)


def _run_numpy(engine, n_steps, crank, solver, groups, c_over_dt, g_scale, v, stim_nodes, stim_amp, probes,
               traces, thresholds, crossings, above, t, recording, frame_buffer, progress, ext=None):
    """The reference loop: numpy arrays, no Python loop over compartments.

    ``ext`` (an :class:`Extracellular`, or None) solves the step where the batch has
    extracellular features, and records them.

    Returns ``(blow_up, wall, compile_s)``: None or the (step, node) where the voltage
    stopped being finite, the stepping time (s), and 0 (nothing is compiled).
    """
    dt, n = engine.dt, v.size
    v_cols = np.array([i for i, (p, _) in enumerate(probes) if p.var == "v"], dtype=int)
    v_nodes = np.array([node for p, node in probes if p.var == "v"], dtype=int)
    readers = [(i, ext.reader(p.var, node) if p.var in EXTRACELLULAR_VARS else _reader(groups, p, node))
               for i, (p, node) in enumerate(probes) if p.var != "v"]
    frames = [(frame_buffer[o:o + (n_steps // every + 1) * (b - a)].reshape(-1, b - a), every, slice(a, b))
              for o, every, a, b in recording]

    def record(k):
        traces[k, v_cols] = v[v_nodes]
        for i, read in readers:
            traces[k, i] = read(v)
        for f, every, part in frames:
            if k % every == 0:
                f[k // every] = v[part]
        if ext is not None:
            ext.record(k)

    record(0)
    g, ge, d, b, v_new = (np.empty(n) for _ in range(5))
    now, up = np.empty(n, bool), np.empty(n, bool)
    start = time.perf_counter()
    for k in range(n_steps):
        g.fill(0.0)
        ge.fill(0.0)
        for grp in groups:
            grp.conductance(v, g, ge)
        np.multiply(g, g_scale, out=d)
        d += c_over_dt
        np.multiply(ge, g_scale, out=b)
        np.multiply(v, c_over_dt, out=g)  # g is free again: C/dt v
        b += g
        if len(stim_nodes):
            b[stim_nodes] += stim_amp[k]
        if ext is None:
            solver.solve(d, b, out=v_new)
        else:
            ext.solve(k, d, b, v, v_new, crank)
        if crank:
            v_new *= 2.0
            v_new -= v
        if not np.isfinite(v_new.sum()):
            bad = np.flatnonzero(~np.isfinite(v_new))
            return (k, int(bad[0]) if bad.size else int(np.argmax(np.abs(v_new)))), time.perf_counter() - start, 0.0
        np.greater_equal(v_new, thresholds, out=now)
        np.greater(now, above, out=up)
        if up.any():
            hit = np.flatnonzero(up)
            hit = hit[np.isnan(crossings[hit])]
            crossings[hit] = t[k] + (thresholds[hit] - v[hit]) / (v_new[hit] - v[hit]) * dt
        above, now = now, above
        v, v_new = v_new, v
        for grp in groups:
            grp.advance(v, dt)
        record(k + 1)
        if progress and k % 64 == 63:
            progress.tick(k + 1)
    if progress:
        progress.done()
    return None, time.perf_counter() - start, 0.0


class _Progress:
    """Calls a run's progress callback at most every :data:`PROGRESS_EVERY_S` s (falsy without one)."""

    def __init__(self, callback, total):
        self.callback, self.total, self.last = callback, total, time.perf_counter()

    def __bool__(self):
        return self.callback is not None

    def tick(self, done):
        now = time.perf_counter()
        if now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            self.callback(done, self.total)

    def done(self):
        self.callback(self.total, self.total)


def _reader(groups, probe, node):
    """A function of the present voltage returning a probed gate or current."""
    mech_name, _, var = probe.var.partition(".")
    for grp in groups:
        if grp.cls.name == mech_name:
            read = grp.reader(var, node)
            if read is not None:
                return read
    raise InputError(f"'{mech_name}' is not inserted where probe {probe.name!r} is", key="probe.at")


def _run_numba(engine, n_steps, crank, solver, groups, c_over_dt, g_scale, v, stim_nodes, stim_amp, probes,
               traces, thresholds, crossings, above, t, recording, frame_buffer, progress, ext=None):
    """The compiled loop (:mod:`hhcable.kernels`); returns as :func:`_run_numpy`.

    With a progress callback the run is stepped in chunks of about :data:`PROGRESS_EVERY_S`
    seconds; the state lives in the arrays, so chunks give the same numbers as one call.
    """
    from . import kernels

    compile_start = time.perf_counter()
    classes = list(dict.fromkeys(grp.cls for grp in groups))
    module = kernels.module_for(classes)
    lay = kernels.Staggered()  # the node arrays made here start at their own offsets in a page
    group_args, where = [], {}
    for c, cls in enumerate(classes):
        mine = [grp for grp in groups if grp.cls is cls]
        spec = cls.spec()
        ptr = np.concatenate([[0], np.cumsum([len(grp.span) for grp in mine])]).astype(np.int64)
        nodes = np.concatenate([grp.span for grp in mine]).astype(np.int64)
        params, states = lay.rows(len(spec.params), int(ptr[-1])), lay.rows(len(spec.gates), int(ptr[-1]))
        n_grid = len(table_grid()) - 1 if any(grp.table is not None for grp in mine) else 1
        table = np.zeros((len(mine), n_grid, 4 * len(spec.gates)))
        for k, grp in enumerate(mine):
            a, b = ptr[k], ptr[k + 1]
            for row, name in enumerate(spec.params):
                params[row, a:b] = grp.params[name]
            states[:, a:b] = grp.states
            if grp.table is not None:
                table[k] = grp.table.kernel_layout()
            where[id(grp)] = (c, int(a))
        q = np.array([grp.q for grp in mine]).reshape(len(mine), len(spec.gates))
        use_table = np.array([grp.table is not None for grp in mine])
        group_args += [ptr, nodes, q, use_table, params, states, table]
    kind, cls_index, row, col, node_of = (np.zeros(len(probes), np.int64) for _ in range(5))
    for i, (p, node) in enumerate(probes):
        node_of[i] = node
        if p.var == "v":
            continue
        if p.var in EXTRACELLULAR_VARS:
            kind[i] = kernels.PROBE_I_MEMBRANE if p.var == "i_membrane" else kernels.PROBE_VEXT
            cls_index[i] = -1
            continue
        mech_name, _, var = p.var.partition(".")
        grp = next((g for g in groups if g.cls.name == mech_name and np.any(g.nodes == node)), None)
        if grp is None:
            raise InputError(f"'{mech_name}' is not inserted where probe {p.name!r} is", key="probe.at")
        c, first = where[id(grp)]
        cls_index[i], col[i] = c, first + int(grp.columns[np.flatnonzero(grp.nodes == node)[0]])
        gate = var in grp.spec.gate_names
        kind[i] = kernels.PROBE_GATE if gate else kernels.PROBE_CURRENT
        row[i] = (grp.spec.gate_names if gate else grp.spec.current_names).index(var)
    rec = np.array(recording, dtype=np.int64).reshape(-1, 4)
    parent = solver.parent.astype(np.int64)
    off = lay.rows(1, v.size)[0, :v.size]
    np.negative(solver.g_axial, out=off)
    args = (float(engine.dt), bool(crank), parent, kernels.special_nodes(parent, stim_nodes), off,
            lay.copy(solver.axial_diag), c_over_dt, g_scale, v, stim_nodes,
            np.ascontiguousarray(stim_amp), thresholds, crossings, above, t, rec[:, 1].copy(), rec[:, 2].copy(),
            rec[:, 3].copy(), rec[:, 0].copy(), frame_buffer, kind, cls_index, row, col, node_of, traces,
            1.0 / TABLE_DV)
    n_threads = 1 if ext is not None else engine.threads_for(v.size)  # layers: one thread
    quad = kernels.cable_quarters(parent, g_scale, stim_nodes) if n_threads == 2 else np.full(3, -1)
    if ext is not None:
        run = module.run_extracellular
        args += ext.kernel_args()
    elif n_threads > 1:
        if quad[1] >= 0:  # one cable: two threads of two lanes each, the membrane cut at q2
            plan = kernels.Plan(np.array([[[0, quad[1]]], [[quad[1], v.size]]], dtype=np.int64))
        else:
            plan = kernels.plan_parts(parent, n_threads)
        run = module.run_parallel
        cuts = [_cuts(plan, ptr, nodes) for ptr, nodes in zip(group_args[0::7], group_args[1::7])]
        mine = [_owned(plan, nodes) for nodes in (stim_nodes, node_of, rec[:, 2])]
        kinds = [kernels.blocks_of(parent, plan.solve[w] if plan.pivot < 0 else []) for w in range(plan.n_parts)]
        cells = [_stacked([k[i] for k in kinds], fill) for i, fill in ((0, -1), (1, 0), (2, 0))]
        group_args = [plan.solve, plan.pivot, plan.path_runs, plan.owner, quad.astype(np.int64), *cells, *mine,
                      *group_args, *cuts]
    else:
        blocks = kernels.blocks_of(parent, [(0, v.size)])
        run = module.run_blocked if blocks[2].shape[0] > 1 else module.run
        everything = [np.r_[np.arange(len(nodes)), -1][None] for nodes in (stim_nodes, node_of, rec[:, 2])]
        group_args = [*(part[None] for part in blocks), *everything, *group_args]
    if ext is None:
        args = (lay.rows(kernels.WORK_ROWS + int(quad[1] >= 0), v.size), *args)  # (and the lanes' fill)
    engine.threads_used = n_threads
    with _threads(n_threads):
        run(0, 0, *args, *group_args)  # compiles, or loads the cached machine code, outside the timing
        compile_s = time.perf_counter() - compile_start
        return _chunks(run, args, group_args, n_steps, progress, compile_s)


def _chunks(run, args, group_args, n_steps, progress, compile_s):
    """Step a compiled run loop from 0 to ``n_steps``, in chunks where there is a progress callback."""
    start = time.perf_counter()
    first, chunk = 0, n_steps if not progress else max(1, min(n_steps, 64))
    while first < n_steps:
        last = min(n_steps, first + chunk)
        chunk_start = time.perf_counter()
        step, bad = run(first, last, *args, *group_args)
        if step >= 0:
            return (int(step), int(bad)), time.perf_counter() - start, compile_s
        if progress:
            progress.tick(last)
            per_step = (time.perf_counter() - chunk_start) / (last - first)
            chunk = max(1, int(PROGRESS_EVERY_S / max(per_step, 1e-9)))
        first = last
    if progress:
        progress.done()
    return None, time.perf_counter() - start, compile_s


def _stacked(rows, fill):
    """2-D arrays of rows stacked into one 3-D array, shorter ones padded with ``fill``."""
    out = np.full((len(rows), max(r.shape[0] for r in rows), rows[0].shape[1]), fill, dtype=np.int64)
    for w, r in enumerate(rows):
        out[w, :r.shape[0]] = r
    return out


def _owned(plan, nodes):
    """For each part, the indices of ``nodes`` in its ranges, padded with -1: shape (n_parts, len(nodes) + 1)."""
    out = np.full((plan.n_parts, len(nodes) + 1), -1, dtype=np.int64)
    for w in range(plan.n_parts):
        inside = np.zeros(len(nodes), bool)
        for a, b in plan.ranges[w]:
            inside |= (nodes >= a) & (nodes < b)
        which = np.flatnonzero(inside)
        out[w, :which.size] = which
    return out


def _cuts(plan, ptr, nodes):
    """For each part, node range and group of one channel class: the group's entries (start, stop) in it."""
    n_groups = ptr.size - 1
    out = np.zeros((plan.n_parts, plan.ranges.shape[1], n_groups, 2), dtype=np.int64)
    for grp in range(n_groups):
        mine = nodes[ptr[grp]:ptr[grp + 1]]
        out[:, :, grp, :] = ptr[grp] + np.searchsorted(mine, plan.ranges)
    return out


#: numba's workqueue threading layer (the one that needs no TBB or OpenMP) must not be
#: entered from two Python threads at once: threaded runs take turns.
_PARALLEL_LOCK = threading.Lock()


@contextlib.contextmanager
def _threads(n):
    """Run numba's parallel loops on ``n`` threads (from this Python thread), one threaded run at a time."""
    if n <= 1:
        yield
        return
    import numba

    with _PARALLEL_LOCK:
        before = numba.get_num_threads()
        numba.set_num_threads(n)
        try:
            yield
        finally:
            numba.set_num_threads(before)

"""Run many simulations as one system, and the time loop itself.

A :class:`Batch` joins the cells of several :class:`~hhcable.simulation.Simulation` objects
into one forest (one block-diagonal matrix, every cell's nodes consecutive), so a parameter
sweep pays the Python overhead of a step once, not once per cell.  Insertions of the same
mechanism class at the same temperature are merged into one, with parameters that differ
between cells turned into per-node arrays, so 64 HH axons cost the numpy calls of one.
``Simulation.run`` is a batch of one.

Each step (NEURON's fixed-step order):

1. every mechanism adds its conductance ``g`` and ``g * e`` at the present voltage and gates;
2. the voltage is advanced implicitly, solving ``(C/dt + g + L) v' = C/dt v + g e + I_stim``
   (backward Euler; Crank–Nicolson solves the same system over dt/2 and extrapolates,
   ``v' = 2 v_half - v``, as NEURON's ``secondorder = 2``);
3. the gates are advanced by exponential Euler at the new voltage, so they stay half a step
   apart from the voltage.

Stimuli are sampled at the middle of each step.  Buffers are allocated before the loop and
the loop does its arithmetic in place; nothing in it iterates over compartments or cells.
"""

import copy
import time

import numpy as np

from .errors import InputError, MemoryLimitError
from .simulation import Result, Simulation, check_backend
from .solver import TreeSolver
from .units import NF_PER_UF_CM2_UM2, US_PER_S_CM2_UM2


class _Group:
    """One mechanism over a set of nodes: a slice (a view, no copies) or an index array."""

    def __init__(self, mechanism, nodes, span, v):
        self.mechanism = mechanism
        self.nodes = nodes  # the nodes the mechanism is inserted in
        self.index = slice(int(span[0]), int(span[-1]) + 1) if _is_run(span) else span
        self.columns = np.searchsorted(span, nodes)
        self.states = mechanism.steady_state(v[self.index])
        if not isinstance(self.index, slice):
            self._g, self._ge = np.empty(len(span)), np.empty(len(span))

    def conductance(self, v, g, ge):
        idx = self.index
        if isinstance(idx, slice):
            self.mechanism.conductance(self.states, v[idx], g[idx], ge[idx])
            return
        self._g.fill(0.0)
        self._ge.fill(0.0)
        self.mechanism.conductance(self.states, v[idx], self._g, self._ge)
        g[idx] += self._g
        ge[idx] += self._ge

    def advance(self, v, dt):
        self.mechanism.advance(self.states, v[self.index], dt)


def _is_run(nodes):
    return len(nodes) > 0 and nodes[-1] - nodes[0] + 1 == len(nodes)


def _span(nodes, area):
    """The nodes a group computes on: its run from first to last node if every node in
    between that it lacks has no membrane (section ends), else its own nodes."""
    run = np.arange(nodes[0], nodes[-1] + 1)
    missing = np.setdiff1d(run, nodes, assume_unique=True)
    return run if not np.any(area[missing] > 0) else nodes


def _merge(members, span):
    """One mechanism standing for several cells' instances: differing parameters become arrays."""
    first = members[0][0]
    merged = copy.copy(first)
    merged.params = dict(first.params)
    for key in first.params:
        values = [m.params[key] for m, _ in members]
        if any(x != values[0] for x in values):
            full = np.zeros(len(span))
            for (m, nodes), x in zip(members, values):
                full[np.searchsorted(span, nodes)] = x
            merged.params[key] = full
    return merged


class Batch:
    """Several simulations stepped together as one block-diagonal system.

    Every simulation keeps its own cell (morphology, passive properties, temperature,
    mechanisms and their parameters), stimuli, probes, recordings and initial voltage; they
    must share the time step and the method.

    Parameters
    ----------
    simulations : list of Simulation
    backend : {"auto", "numpy", "numba"}
        Who steps: ``"numba"`` the compiled kernel (:mod:`hhcable.kernels`, needs the
        ``fast`` extra; InputError if numba is missing or the model has what the kernel
        does not compile), ``"numpy"`` the numpy loop, ``"auto"`` (default) the kernel where
        it can, else numpy.  ``Result.info["backend"]`` says which ran.

    Examples
    --------
    >>> import hhcable as hc
    >>> sims = []
    >>> for diam in (1.0, 2.0, 4.0):
    ...     cell = hc.Cell(hc.Morphology.cable(length=2000.0, diam=diam), max_segment=20.0)
    ...     _ = cell.insert(hc.HH())
    ...     sim = hc.Simulation(cell, dt=0.025)
    ...     sim.iclamp(at=0.0, delay=1.0, dur=0.5, amp=diam)
    ...     sim.probe("far", at=0.9)
    ...     sims.append(sim)
    >>> results = hc.Batch(sims).run(tstop=10.0)
    >>> [len(hc.spike_times(r.t, r["far"])) for r in results]
    [1, 1, 1]
    """

    def __init__(self, simulations, backend="auto"):
        sims = list(simulations) if not isinstance(simulations, Simulation) else [simulations]
        if not sims or not all(isinstance(s, Simulation) for s in sims):
            raise InputError("a batch needs a non-empty list of Simulation objects", key="simulations")
        for s in sims[1:]:
            if s.dt != sims[0].dt or s.method != sims[0].method:
                raise InputError(f"all simulations of a batch need the same dt and method; got dt {s.dt} "
                                 f"({s.method}) and {sims[0].dt} ({sims[0].method})", key="simulations")
        self.simulations = sims
        self.dt, self.method = sims[0].dt, sims[0].method
        self.backend = check_backend(backend)

    # -- set-up -------------------------------------------------------------------------
    def _layout(self):
        sizes = [s.cell.compartments.n_nodes for s in self.simulations]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        comps = [s.cell.compartments for s in self.simulations]
        parent = np.concatenate([np.where(c.parent >= 0, c.parent + o, -1) for c, o in zip(comps, self.offsets)])
        self.g_axial = np.concatenate([c.g_axial for c in comps])
        self.area = np.concatenate([c.area for c in comps])
        self.cm = np.concatenate([np.full(n, s.cell.cm) for s, n in zip(self.simulations, sizes)])
        self.v_init = np.concatenate([np.full(n, s.v_init) for s, n in zip(self.simulations, sizes)])
        single = len(self.simulations) == 1
        self.solver = self.simulations[0].solver if single else TreeSolver(parent, self.g_axial)

    def _groups(self, v):
        keyed = {}
        for sim, offset in zip(self.simulations, self.offsets):
            for mech, nodes in sim.cell.mechanisms:
                key = (type(mech), sim.cell.celsius, getattr(mech, "use_table", None))
                keyed.setdefault(key, []).append((mech, nodes + offset))
        groups = []
        for (_, celsius, _), members in keyed.items():
            nodes = np.sort(np.concatenate([n for _, n in members]))
            span = _span(nodes, self.area)
            mech = members[0][0] if len(members) == 1 else _merge(members, span)
            mech.prepare(celsius, self.dt)
            groups.append(_Group(mech, nodes, span, v))
        return groups

    def _reader(self, groups, probe, node):
        """A function of the present voltage returning a probed gate or current."""
        mech_name, _, var = probe.var.partition(".")
        for grp in groups:
            if grp.mechanism.name != mech_name:
                continue
            where = np.flatnonzero(grp.nodes == node)
            if not where.size:
                continue
            col = int(grp.columns[where[0]])
            if var in grp.mechanism.states:
                row = grp.mechanism.states.index(var)
                return lambda v: grp.states[row, col]
            return lambda v: grp.mechanism.currents(grp.states, v[grp.index])[var][col]
        raise InputError(f"'{mech_name}' is not inserted where probe {probe.name!r} is", key="probe.at")

    def _backend(self, groups, probes):
        """"numba" or "numpy": who steps this run (see the class's ``backend``)."""
        if self.backend == "numpy":
            return "numpy"
        from . import kernels

        why = "numba is not installed (pip install hhcable[fast])" if not kernels.AVAILABLE \
            else kernels.unsupported(groups, probes)
        if why is None:
            return "numba"
        if self.backend == "numba":
            raise InputError(f"the numba backend cannot run this model: {why}; use backend='auto' or 'numpy'",
                             key="backend")
        return "numpy"

    # -- running ------------------------------------------------------------------------
    def run(self, tstop):
        """Run every simulation from 0 to ``tstop`` (ms); a list of :class:`Result`, one per simulation.

        Each result's ``run_wall_s`` is the stepping time of the whole batch.
        """
        if isinstance(tstop, bool) or not isinstance(tstop, (int, float)) or not (np.isfinite(tstop) and tstop > 0):
            raise InputError(f"must be a positive number of ms, got {tstop!r}", key="tstop")
        dt, sims = self.dt, self.simulations
        n_steps = int(round(tstop / dt))
        if n_steps < 1:
            raise InputError(f"tstop ({tstop} ms) is shorter than one step ({dt} ms)", key="tstop")
        for sim in sims:
            need = sim.record_bytes(n_steps)
            if need > sim.max_record_bytes:
                raise MemoryLimitError(
                    f"recording the whole cell needs {need / 1e6:.0f} MB, over the limit of "
                    f"{sim.max_record_bytes / 1e6:.0f} MB; record every more steps or raise max_bytes",
                    key="record_space")
        self._layout()
        off = self.offsets
        n = int(off[-1])
        v = self.v_init.copy()
        groups = self._groups(v)
        crank = self.method == "crank_nicolson"
        c_over_dt = self.cm * self.area * NF_PER_UF_CM2_UM2 / (dt / 2 if crank else dt)  # µS
        g_scale = self.area * US_PER_S_CM2_UM2  # µS per S/cm²
        t = np.arange(n_steps + 1) * dt

        # Stimuli: one column per stimulated node, currents summed (nA).
        stim = [(node + o, s) for sim, o in zip(sims, off) for node, s in sim.stimuli]
        stim_nodes = np.unique(np.array([node for node, _ in stim], dtype=int))
        stim_amp = np.zeros((n_steps, len(stim_nodes)))
        for node, s in stim:
            stim_amp[:, np.searchsorted(stim_nodes, node)] += s.current(t[:-1] + dt / 2)

        # Probes: voltages gathered with one indexed copy per step; gates and currents read.
        probes = [(p, node_offset + p.node) for sim, node_offset in zip(sims, off) for p in sim.probes]
        v_cols = [i for i, (p, _) in enumerate(probes) if p.var == "v"]
        v_nodes = np.array([probes[i][1] for i in v_cols], dtype=int)
        readers = [(i, self._reader(groups, p, node)) for i, (p, node) in enumerate(probes) if p.var != "v"]
        v_traces = np.empty((n_steps + 1, len(v_cols)))
        traces = np.empty((n_steps + 1, len(probes)))
        # Whole-cell frames: views into one buffer (the compiled kernel writes it flat).
        shapes = [(n_steps // s.space_every + 1, s.cell.compartments.n_nodes) if s.space_every else (0, 0)
                  for s in sims]
        starts = np.concatenate([[0], np.cumsum([a * b for a, b in shapes])]).astype(int)
        frame_buffer = np.empty(starts[-1])
        frames = [frame_buffer[o:o + a * b].reshape(a, b) if s.space_every else None
                  for s, o, (a, b) in zip(sims, starts, shapes)]
        recording = [(f, s.space_every, slice(int(a), int(b))) for f, s, a, b in zip(frames, sims, off[:-1], off[1:])
                     if f is not None]

        # Threshold crossings: a per-node threshold, NaN where not recorded (never crossed).
        thresholds = np.concatenate([np.full(s.cell.compartments.n_nodes, np.nan if s.threshold is None
                                             else s.threshold) for s in sims])
        crossings = np.full(n, np.nan)
        above = v >= thresholds
        now, up = np.empty(n, bool), np.empty(n, bool)

        def record(k):
            np.take(v, v_nodes, out=v_traces[k])
            for i, read in readers:
                traces[k, i] = read(v)
            for f, every, part in recording:
                if k % every == 0:
                    f[k // every] = v[part]

        record(0)
        backend = self._backend(groups, [p for p, _ in probes])
        if backend == "numba":
            from . import kernels

            wall = kernels.run(n_steps, dt, crank, self.solver, groups, c_over_dt, g_scale, v, stim_nodes,
                               stim_amp, v_nodes, v_traces, thresholds, crossings, above, t,
                               [(o, s.space_every, a, b) for s, o, a, b in zip(sims, starts, off[:-1], off[1:])
                                if s.space_every], frame_buffer)
        else:
            g, ge, d, b, v_new = (np.empty(n) for _ in range(5))
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
                self.solver.solve(d, b, out=v_new)
                if crank:
                    v_new *= 2.0
                    v_new -= v
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
            wall = time.perf_counter() - start

        traces[:, v_cols] = v_traces
        results, first = [], 0
        for sim, f, a, b_ in zip(sims, frames, off[:-1], off[1:]):
            cols = slice(first, first + len(sim.probes))
            first += len(sim.probes)
            results.append(Result(
                t=t,
                traces=traces[:, cols].T.copy(),
                names=[p.name for p in sim.probes],
                nodes=np.array([p.node for p in sim.probes], dtype=int),
                cell=sim.cell,
                crossings=None if sim.threshold is None else crossings[a:b_].copy(),
                threshold=sim.threshold,
                space_t=None if f is None else t[:: sim.space_every],
                space_v=f,
                run_wall_s=wall,
                info={"dt": dt, "method": self.method, "n_steps": n_steps, "batch_size": len(sims),
                      "backend": backend},
            ))
        return results

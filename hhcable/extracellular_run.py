"""The extracellular part of a run: NEURON's ``extracellular`` layers, applied potentials,
membrane currents and extracellular recordings.

:class:`~hhcable.engine.Engine` builds an :class:`Extracellular` when a simulation of the run
uses one of these features; the numpy loop calls its :meth:`Extracellular.solve` for the
implicit step, and the compiled kernel's ``run_extracellular`` takes its arrays
(:meth:`Extracellular.kernel_args`).  Runs without them never come here.
"""

import numpy as np

from .solver import LayerSolver
from .units import NF_PER_UF_CM2_UM2, US_PER_S_CM2_UM2

#: Probe variables of the extracellular features: total membrane current (nA) and the
#: potential of the extracellular layer (mV).
EXTRACELLULAR_VARS = ("i_membrane", "vext")


class Extracellular:
    """The extracellular part of a run (NEURON's ``extracellular``): layers, applied
    potentials, membrane currents and recordings, for the numpy loop and the kernel.

    Without a layer anywhere in the batch, the unknown stays the membrane potential ``v`` and
    an applied potential ``E`` enters as the current ``-L E`` (``L`` the axial Laplacian: the
    axial currents are driven by ``v + E``).  With one, every node has the unknowns ``vi`` and
    ``vx`` (:class:`~hhcable.solver.LayerSolver`); nodes without the layer have ``vx = E``.
    The layer starts at 0 mV, and ``E`` is taken as 0 before the first step (NEURON's
    ``finitialize`` sets ``vext`` to 0).

    Parameters
    ----------
    sims : list of Simulation
    off : ndarray of int
        First node of each simulation in the batch (and the total at the end).
    solver : TreeSolver
        The batch's solver (intracellular axial conductances).
    area : ndarray, µm²
    dt : float, ms
    crank : bool
        Crank–Nicolson (the implicit solve spans dt/2).
    t : ndarray, ms
        Times of the run's samples.
    stim_nodes, stim_amp : ndarray
        The batch's current stimuli (nodes, nA per step), which are no membrane current.
    """

    def __init__(self, sims, off, solver, area, dt, crank, t, stim_nodes, stim_amp):
        n = int(off[-1])
        self.n, self.stim_nodes, self.stim_amp = n, stim_nodes, stim_amp
        cells = [s.cell for s in sims]
        self.layer = np.concatenate([c.layer_nodes() for c in cells])
        self.any_layer = bool(self.layer.any())
        self.g_layer = np.concatenate([c.layer_conductance() for c in cells])
        xg = np.concatenate([_layer_value(c, "xg") for c in cells])
        xc = np.concatenate([_layer_value(c, "xc") for c in cells])
        self.gx = xg * area * US_PER_S_CM2_UM2  # µS
        self.cx_over_dt = xc * area * NF_PER_UF_CM2_UM2 / (dt / 2 if crank else dt)  # µS
        self.layer_diag = np.bincount(np.flatnonzero(solver.parent >= 0), self.g_layer[solver.parent >= 0], n) \
            + np.bincount(solver.parent[solver.parent >= 0], self.g_layer[solver.parent >= 0], n)

        # Applied potentials: per source, its nonzero transfers (E) and, without a layer, the
        # current -L transfer they drive; the stimulus's step means in one column each.
        sources = [(s, o, transfer, stim) for s, o in zip(sims, off[:-1]) for transfer, stim in s.applied]
        self.amp = np.zeros((len(t) - 1, len(sources)))
        e_parts, i_parts = [], []
        for col, (sim, o, transfer, stim) in enumerate(sources):
            self.amp[:, col] = stim.mean(t[:-1], dt)
            e_parts.append(_sparse_column(transfer, o, col))
            if not self.any_layer:
                i_parts.append(_sparse_column(-(sim.solver.axial_matrix @ transfer), o, col))
        self.src_node, self.src_w, self.src_col = _join_columns(e_parts)
        self.inj_node, self.inj_w, self.inj_col = _join_columns(i_parts)

        # Recordings: one column each, in the order of the simulations.
        self.record_cols, outs, col = [], [], 0
        for sim, o in zip(sims, off[:-1]):
            self.record_cols.append(np.arange(col, col + len(sim.recordings)))
            for _, weights in sim.recordings:
                outs.append(_sparse_column(weights, o, col))
                col += 1
        self.out_node, self.out_w, self.out_col = _join_columns(outs)
        self.traces = np.zeros((len(t), col))

        self.vx = np.zeros(n)  # mV: the layer (E where there is none)
        self.e_now, self.e_old = np.zeros(n), np.zeros(n)
        self.imem, self.i_out = np.zeros(n), np.zeros(n)  # nA
        self.layer_solver = LayerSolver(solver.parent, solver.g_axial, self.g_layer, self.layer) \
            if self.any_layer else None
        self.solver = solver

    def applied(self, k):
        """The applied potential (mV) at every node over step ``k``."""
        return _columns_sum(self.src_node, self.src_w, self.src_col, self.amp[k], self.n)

    def solve(self, k, d, b, v, out, crank):
        """The implicit solve of step ``k``: the new membrane potential in ``out`` (before
        Crank–Nicolson's extrapolation), the layer in :attr:`vx`, and the currents.

        ``d`` is the membrane load (µS), ``b`` the right-hand side of the membrane alone
        (``C/dt v + g e`` and current stimuli, nA).
        """
        e = self.applied(k)
        rm = b.copy()
        if len(self.stim_nodes):
            rm[self.stim_nodes] -= self.stim_amp[k]  # C/dt v + g e: what the membrane current is measured from
        if self.layer_solver is None:
            inject = _columns_sum(self.inj_node, self.inj_w, self.inj_col, self.amp[k], self.n)
            self.solver.solve(d, b + inject, out=out)
            self.vx[:] = e
        else:
            lay = self.layer
            drive = self.cx_over_dt * (e - self.e_old + self.vx)
            rhs = np.concatenate([np.where(lay, b, b + d * e), np.where(lay, self.gx * e - rm + drive, e)])
            x = self.layer_solver.solve(d, self.gx + self.cx_over_dt, rhs)
            vi, vx = x[:self.n], x[self.n:]
            np.subtract(vi, vx, out=out)
            self.i_out[:] = self.gx * (vx - e) + self.cx_over_dt * (vx - e - self.vx + self.e_old)
            self.vx[:] = np.where(lay, 2 * vx - self.vx, vx) if crank else vx
        np.multiply(d, out, out=self.imem)
        self.imem -= rm
        if self.layer_solver is None:
            self.i_out[:] = self.imem
        else:
            self.i_out[:] = np.where(self.layer, self.i_out, self.imem)
        self.e_old[:] = e

    def kernel_args(self):
        """The arguments of the kernel's ``run_extracellular`` after those of ``run``."""
        return (self.g_layer, self.layer_diag, self.layer, self.gx, self.cx_over_dt, self.vx, self.e_old, self.imem,
                self.i_out, self.src_node, self.src_w, self.src_col, self.amp, self.out_node, self.out_w,
                self.out_col, self.traces)

    def reader(self, var, node):
        """A function (of the voltage, unused) reading probe variable ``var`` at ``node``."""
        source = self.imem if var == "i_membrane" else self.vx
        return lambda v: source[node]

    def record(self, k):
        """Record the extracellular traces at sample ``k``."""
        if self.traces.shape[1]:
            self.traces[k] = np.bincount(self.out_col, self.out_w * self.i_out[self.out_node], self.traces.shape[1])


def _layer_value(cell, name):
    """A layer parameter of every node of ``cell`` (0 where the cell has no layer)."""
    if cell.layer is None:
        return np.zeros(cell.compartments.n_nodes)
    return np.nan_to_num(getattr(cell.layer, name), nan=0.0)


def _sparse_column(values, offset, col):
    """The nonzero entries of one per-node column: (batch nodes, values, column)."""
    nz = np.flatnonzero(values)
    return nz + offset, values[nz], np.full(len(nz), col)


def _join_columns(parts):
    """Columns from :func:`_sparse_column` joined into three flat arrays (int64, float, int64)."""
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
    node, w, col = (np.concatenate(x) for x in zip(*parts))
    return node.astype(np.int64), w.astype(float), col.astype(np.int64)


def _columns_sum(node, w, col, amp, n):
    """``sum_s w_s amp[col_s]`` into bins ``node`` (length ``n``)."""
    return np.bincount(node, w * amp[col], n) if len(node) else np.zeros(n)

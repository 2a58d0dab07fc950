"""The optional compiled time loop (numba): the whole run in one call, no Python per step.

Installed with the ``fast`` extra (``pip install hhcable[fast]``); without numba,
:data:`AVAILABLE` is False and :class:`~hhcable.batch.Batch` steps with numpy.  The kernel
covers the common case: :class:`~hhcable.channels.hh.HH` (with or without rate tables) and
:class:`~hhcable.channels.passive.Passive` on any nodes of any tree or forest, current
stimuli, voltage probes, threshold crossings and whole-cell frames, backward Euler and
Crank–Nicolson.  Anything else (gate or current probes, other mechanisms) runs with numpy.

Each step does what the numpy loop does, in the same order and with the same floating-point
operations: conductances group by group, the load and right-hand side, the voltage solve,
crossings, then the gates by exponential Euler (the same rate-table arrays, the same
interpolation, the same fall-back to exact rates when a voltage leaves the table).  Only the
voltage solve differs: classic Hines elimination (from the leaves to the roots along the
parent array, then substitution back), where numpy uses LAPACK on the chains and a junction
system; the two agree to round-off.  No fast-math: results are reproducible.
"""

import math
import time

import numpy as np

from .channels.hh import _VTRAP_SERIES, HH, TABLE_V_MAX, TABLE_V_MIN
from .channels.passive import Passive

try:
    import numba
except ImportError:  # the default install: numpy only
    numba = None

#: Whether the compiled kernel can be used (numba importable).
AVAILABLE = numba is not None
#: Mechanism codes in the kernel's group list.
KIND_HH, KIND_PASSIVE = 0, 1
#: Rows of the per-group parameter array (HH: gnabar, gkbar, gl, ena, ek, el; pas: g, e).
N_PARAMS = 6


def _jit(func):
    return numba.njit(cache=True)(func) if AVAILABLE else func


@_jit
def _vtrap(x, y):
    """Scalar :func:`hhcable.channels.hh.vtrap` (tested equal to it)."""
    u = x / y
    if abs(u) < _VTRAP_SERIES:
        return y * (1.0 - u / 2)
    return y * (u / math.expm1(u))


@_jit
def hh_factors(v, q10, dt, out):
    """Scalar form of :func:`hhcable.channels.hh.update_factors` at one voltage ``v`` (mV).

    The compiled loop cannot call numpy's array version, so the HH rates are written here
    once more, operation for operation; ``tests/test_kernels.py`` checks both agree to 1e-14.
    Writes ``[decay_m, decay_h, decay_n, gain_m, gain_h, gain_n]`` (1) into ``out``; ``q10``
    multiplies the 6.3 °C rates, ``dt`` is the step (ms).
    """
    alpha_m = 0.1 * _vtrap(-(v + 40.0), 10.0)
    alpha_h = 0.07 * math.exp(-(v + 65.0) / 20.0)
    alpha_n = 0.01 * _vtrap(-(v + 55.0), 10.0)
    beta_m = 4.0 * math.exp(-(v + 65.0) / 18.0)
    beta_h = 1.0 / (math.exp(-(v + 35.0) / 10.0) + 1.0)
    beta_n = 0.125 * math.exp(-(v + 65.0) / 80.0)
    scale = -dt * q10
    for q, (a, b) in enumerate(((alpha_m, beta_m), (alpha_h, beta_h), (alpha_n, beta_n))):
        rate = scale * (a + b)
        out[q] = math.exp(rate)
        out[3 + q] = -a / (a + b) * math.expm1(rate)


@_jit
def _membrane(v, dt, advance, all_on_table, kind, ptr, nodes, in_place, use_table, q10, params, states, table,
              inv_dv, factors, g, ge):
    """Group by group: advance the HH gates at ``v`` (if ``advance``), then add every
    mechanism's ``g`` and ``g e`` for the next step into ``g``, ``ge`` (which start at zero)."""
    for grp in range(kind.size):
        a, b = ptr[grp], ptr[grp + 1]
        if kind[grp] == KIND_PASSIVE:
            for j in range(a, b):
                g[nodes[j]] += params[0, j]
                ge[nodes[j]] += params[0, j] * params[1, j]
            continue
        on_table = use_table[grp]
        if on_table and not all_on_table:  # as numpy: exact rates for the whole group
            for j in range(a, b):
                x = v[nodes[j]]
                if not (x >= TABLE_V_MIN and x < TABLE_V_MAX):
                    on_table = False
                    break
        for j in range(a, b):
            i = nodes[j]
            if advance and on_table:
                x = (v[i] - TABLE_V_MIN) * inv_dv
                k = int(x)
                x -= k
                for q in range(3):
                    decay = table[grp, k, q] + table[grp, k, 6 + q] * x
                    gain = table[grp, k, 3 + q] + table[grp, k, 9 + q] * x
                    states[q, j] = states[q, j] * decay + gain
            elif advance:
                hh_factors(v[i], q10[grp], dt, factors)
                for q in range(3):
                    states[q, j] = states[q, j] * factors[q] + factors[3 + q]
            m, h, n = states[0, j], states[1, j], states[2, j]
            gna = m * m * m * h * params[0, j]
            gk = n * n
            gk = gk * gk * params[1, j]
            gl = params[2, j]
            # numpy adds in place over a slice, or sums into zeros then adds (index array).
            if in_place[grp]:
                g[i] = g[i] + gna + gk + gl
                ge[i] = ge[i] + gna * params[3, j] + gk * params[4, j] + gl * params[5, j]
            else:
                g[i] += gna + gk + gl
                ge[i] += gna * params[3, j] + gk * params[4, j] + gl * params[5, j]


@_jit
def _record(k, v, v_nodes, v_traces, rec_every, rec_start, rec_stop, rec_off, frames):
    for c in range(v_nodes.size):
        v_traces[k, c] = v[v_nodes[c]]
    for r in range(rec_every.size):
        if k % rec_every[r] == 0:
            width = rec_stop[r] - rec_start[r]
            base = rec_off[r] + (k // rec_every[r]) * width
            for j in range(width):
                frames[base + j] = v[rec_start[r] + j]


@_jit
def _run(n_steps, dt, crank, parent, off, axial_diag, c_over_dt, g_scale, v,
         kind, ptr, nodes, in_place, use_table, q10, params, states, table, inv_dv,
         stim_nodes, stim_amp, v_nodes, v_traces, thresholds, crossings, above, t,
         rec_every, rec_start, rec_stop, rec_off, frames):
    n = v.size
    g, ge = np.zeros(n), np.zeros(n)  # conductance (S/cm²) and conductance × reversal
    d_acc, r_acc = np.zeros(n), np.zeros(n)  # added to a node's row: stimuli, and children not next to it
    fac, x = np.empty(n), np.empty(n)
    factors = np.empty(6)
    crossing = False
    for i in range(n):
        crossing |= not math.isnan(thresholds[i])
    _membrane(v, dt, False, False, kind, ptr, nodes, in_place, use_table, q10, params, states, table, inv_dv,
              factors, g, ge)
    for k in range(n_steps):
        for s in range(stim_nodes.size):
            r_acc[stim_nodes[s]] += stim_amp[k, s]
        # Hines elimination from the leaves (every parent precedes its children), with the
        # system assembled on the way: (C/dt + g + L) v' = C/dt v + g e + I.  A node's first
        # child is the node after it; its elimination is carried in registers (cd, cr).
        cd, cr = 0.0, 0.0
        for i in range(n - 1, -1, -1):
            d = g[i] * g_scale[i] + c_over_dt[i] + axial_diag[i] + d_acc[i] - cd
            rr = ge[i] * g_scale[i] + v[i] * c_over_dt[i] + r_acc[i] - cr
            g[i], ge[i], d_acc[i], r_acc[i] = 0.0, 0.0, 0.0, 0.0
            r = 1.0 / d
            f = off[i] * r
            fac[i] = f
            x[i] = rr * r
            p = parent[i]
            cd, cr = 0.0, 0.0
            if p == i - 1:
                cd, cr = f * off[i], f * rr
            elif p >= 0:
                d_acc[p] -= f * off[i]
                r_acc[p] -= f * rr
        # Substitution from the roots, then Crank-Nicolson's extrapolation and crossings.
        xp = 0.0
        on_table = True
        for i in range(n):
            p = parent[i]
            if p == i - 1:
                xp = x[i] - fac[i] * xp
            elif p >= 0:
                xp = x[i] - fac[i] * x[p]
            else:
                xp = x[i]
            x[i] = xp
            vn = xp * 2.0 - v[i] if crank else xp
            if crossing:
                now = vn >= thresholds[i]
                if now and not above[i] and math.isnan(crossings[i]):
                    crossings[i] = t[k] + (thresholds[i] - v[i]) / (vn - v[i]) * dt
                above[i] = now
            on_table &= vn >= TABLE_V_MIN and vn < TABLE_V_MAX
            v[i] = vn
        _membrane(v, dt, True, on_table, kind, ptr, nodes, in_place, use_table, q10, params, states, table,
                  inv_dv, factors, g, ge)
        _record(k + 1, v, v_nodes, v_traces, rec_every, rec_start, rec_stop, rec_off, frames)


def unsupported(groups, probes):
    """Why the kernel cannot run this model (a message), or None if it can.

    ``groups`` are the batch's mechanism groups, ``probes`` its probes.
    """
    for grp in groups:
        if type(grp.mechanism) not in (HH, Passive):
            return f"mechanism {type(grp.mechanism).__name__} ({grp.mechanism.name!r}) is not compiled"
    for p in probes:
        if p.var != "v":
            return f"probe {p.name!r} records {p.var!r}; the kernel records voltages only"
    return None


def _group_arrays(groups, n_table):
    """Flatten the groups into the kernel's arrays (the same states and tables, copied)."""
    sizes = [_n_nodes(grp) for grp in groups]
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    total = int(ptr[-1])
    nodes = np.empty(total, np.int64)
    params = np.zeros((N_PARAMS, total))
    states = np.zeros((3, total))
    table = np.zeros((len(groups), n_table, 12))
    kind = np.empty(len(groups), np.int64)
    in_place = np.empty(len(groups), np.bool_)
    use_table = np.zeros(len(groups), np.bool_)
    q10 = np.ones(len(groups))
    for k, grp in enumerate(groups):
        a, b = ptr[k], ptr[k + 1]
        idx = grp.index
        nodes[a:b] = np.arange(idx.start, idx.stop) if isinstance(idx, slice) else idx
        in_place[k] = isinstance(idx, slice)
        mech = grp.mechanism
        names = ("gnabar", "gkbar", "gl", "ena", "ek", "el") if type(mech) is HH else ("g", "e")
        for row, name in enumerate(names):
            params[row, a:b] = mech.params[name]
        if type(mech) is HH:
            kind[k] = KIND_HH
            states[:, a:b] = grp.states
            q10[k] = mech._q10
            if mech.use_table:
                use_table[k] = True
                tab = mech._table[1]
                table[k, :, :6] = tab.value.T
                table[k, :, 6:] = tab.slope.T
        else:
            kind[k] = KIND_PASSIVE
    return kind, ptr, nodes, in_place, use_table, q10, params, states, table


def _n_nodes(grp):
    idx = grp.index
    return idx.stop - idx.start if isinstance(idx, slice) else len(idx)


def run(n_steps, dt, crank, solver, groups, c_over_dt, g_scale, v, stim_nodes, stim_amp, v_nodes, v_traces,
        thresholds, crossings, above, t, recording, frames):
    """Step the prepared batch ``n_steps`` times in one compiled call; the stepping wall time (s).

    The arguments are the numpy loop's own set-up (:meth:`hhcable.batch.Batch.run`): ``v``
    (mV), ``v_traces``, ``crossings`` (ms), ``above`` and the flat ``frames`` buffer are
    written in place; ``recording`` lists ``(offset in frames, every, first node, end node)``.
    """
    tables = [grp.mechanism._table[1] for grp in groups if type(grp.mechanism) is HH and grp.mechanism.use_table]
    n_table = tables[0].value.shape[1] if tables else 1
    inv_dv = tables[0].inv_dv if tables else 1.0
    rec = np.array(recording, dtype=np.int64).reshape(-1, 4)
    args = (float(dt), bool(crank), solver.parent.astype(np.int64), -solver.g_axial, solver.axial_diag,
            np.ascontiguousarray(c_over_dt, dtype=float), np.ascontiguousarray(g_scale, dtype=float), v,
            *_group_arrays(groups, n_table), float(inv_dv),
            stim_nodes.astype(np.int64), np.ascontiguousarray(stim_amp), v_nodes.astype(np.int64), v_traces,
            thresholds, crossings, above, t, rec[:, 1].copy(), rec[:, 2].copy(), rec[:, 3].copy(),
            rec[:, 0].copy(), frames)
    _run(0, *args)  # compiles, or loads the cached machine code, outside the timing
    start = time.perf_counter()
    _run(n_steps, *args)
    return time.perf_counter() - start

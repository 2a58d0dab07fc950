"""The compiled time loop (numba): the whole run in one call, generated from the channels.

Nothing here is written per channel.  For the set of channel classes a model uses, this
module writes the source of a small module (:func:`source`): one membrane loop per class,
which advances the class's gates (rate table or exact rates) and adds its currents'
conductances, calling the class's own gate and conductance functions compiled by numba;
and the run loop, which calls the static solver step below and those membrane loops
(``run``, one thread; ``run_parallel``, the same step on threads over the parts of
:func:`plan_parts`).  The
source is written to a cache folder under a name that fingerprints every piece of code it
calls (the channel functions, the helpers they call, this file), so numba's on-disk cache
makes a second run of the same channels start in milliseconds, and any edit to a channel
gives a new name, never a stale kernel.

Each step does what the numpy loop (:mod:`hhcable.engine`) does, in the same order:
conductances group by group, the voltage solve, crossings, then the gates by exponential
Euler at the new voltage (rate tables with the same interpolation and the same fall-back to
exact rates when a voltage leaves the table).  The voltage solve is classic Hines
elimination (leaves to roots along the parent array, then substitution back), where numpy
uses LAPACK on the chains and a junction system; the two agree to round-off.  The membrane
code is compiled with :data:`hhcable.vecmath.JIT_OPTIONS` (fused multiply-adds, reciprocals
of constants: within an ulp or two of numpy's arithmetic; NaN and inf as in numpy), and its
exp, expm1 and cbrt are :mod:`hhcable.vecmath`'s, so that the exact-rate loop vectorises.
"""

import functools
import hashlib
import importlib.util
import math
import os
import sys
import tempfile
import textwrap
import types
from pathlib import Path

import numpy as np

from .channels.base import _VTRAP_SERIES, TABLE_V_MAX, TABLE_V_MIN, vtrap
from .errors import InputError

try:
    import numba

    from . import vecmath
except ImportError:  # numba could not be installed here: numpy steps (the reference path)
    numba = vecmath = None

#: Whether the compiled kernel can be used (numba importable).
AVAILABLE = numba is not None
#: Probe kinds in the kernel's probe arrays.
PROBE_V, PROBE_GATE, PROBE_CURRENT = 0, 1, 2
#: Environment variable naming the folder of generated kernels (default: the user's cache).
CACHE_ENV = "HHCABLE_CACHE_DIR"


def _jit(func):
    return numba.njit(cache=True)(func) if AVAILABLE else func


def _jit_ieee(func):
    """As :func:`_jit`, dividing as IEEE 754 does (x / 0 is inf or nan, which the run reports as a
    voltage that stopped being finite) rather than raising ZeroDivisionError."""
    return numba.njit(cache=True, error_model="numpy")(func) if AVAILABLE else func


def _loop(func):
    """Compiled without reference counting (``_nrt=False``): for loops that allocate nothing.

    numba drops the reference counts an inlined helper takes on its arrays only where the
    control flow is simple; in a loop calling :func:`_finish` twice it counted them at every
    node (~55 ns a node against 1.5)."""
    return numba.njit(cache=True, _nrt=False)(func) if AVAILABLE else func


def _inline(func):
    """Compiled into its callers (a call per node would count references to every array it takes)."""
    return numba.njit(cache=True, inline="always")(func) if AVAILABLE else func


@_jit
def record_frames(k, rows, v, rec_every, rec_start, rec_stop, rec_off, frames):
    """Copy the voltage of whole cells (recordings ``rows``, up to a -1) into their frames at step ``k`` (where due)."""
    record_frames_in(k, rows, 0, v.size, v, rec_every, rec_start, rec_stop, rec_off, frames)


@_jit
def record_frames_in(k, rows, lo, hi, v, rec_every, rec_start, rec_stop, rec_off, frames):
    """:func:`record_frames` for the recordings of cells starting at nodes lo..hi-1 only."""
    for r in rows:
        if r < 0:
            break
        if lo <= rec_start[r] < hi and k % rec_every[r] == 0:
            width = rec_stop[r] - rec_start[r]
            base = rec_off[r] + (k // rec_every[r]) * width
            for j in range(width):
                frames[base + j] = v[rec_start[r] + j]


# -- the voltage solve, whole or in parts ----------------------------------------------------------
# Hines elimination from the leaves towards the roots, then substitution back.  Along a chain
# of first children (node i's parent is i - 1) the elimination is carried in registers, in a
# tight loop; only ``special`` nodes (chain breaks: roots, first nodes of branches, branch
# points, stimulated nodes) read the parent array and the accumulators of non-adjacent
# children.  The arithmetic is that of the classic loop, node for node.
#
# Threads: a plan (:func:`plan_parts`) cuts the forest into parts of whole components, whole
# cells or the pieces one cell falls into when one node, the pivot, is taken out of it.  Each
# part is eliminated on its own thread, towards its cells' roots or towards the pivot; the
# pivot's scalar equation is solved; each part is substituted back on its own thread.  The
# piece above the pivot is eliminated along the path from the root down to the pivot, the
# reverse of the usual direction (Gaussian elimination on a tree allows any leaf-first order
# without fill-in).
@_inline
def _chain_row(i, o_up, cd, cr, extra_d, extra_r, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x):
    """Eliminate node ``i`` (coupled by ``o_up`` to the node it is eliminated into) with what
    the node before it in the elimination carries (``cd``, ``cr``); zeroes its ``g``, ``ge``;
    its own carry."""
    d = g[i] * g_scale[i] + c_over_dt[i] + axial_diag[i] + extra_d - cd
    rr = ge[i] * g_scale[i] + v[i] * c_over_dt[i] + extra_r - cr
    g[i], ge[i] = 0.0, 0.0
    r = 1.0 / d
    f = o_up * r
    fac[i] = f
    x[i] = rr * r
    return f * o_up, f * rr


@_jit
def eliminate_part(ranges, special, pivot, path, owner, parent, off, axial_diag, c_over_dt, g_scale, v, g, ge, d_acc,
                   r_acc, fac, x):
    """Eliminate the nodes of ``ranges`` (rows ``(start, stop)``), then the ``path`` if ``owner``.

    Leaves ``fac`` (each node's coupling to the node it was eliminated into, over its pivot)
    and ``x`` (its right-hand side over its pivot) for :func:`substitute_part`, and zeroes
    ``g``, ``ge`` and the accumulators.  Returns ``(d, r)`` to subtract from the pivot's
    diagonal and right-hand side.
    """
    to_d, to_r = 0.0, 0.0
    for rho in range(ranges.shape[0] - 1, -1, -1):
        a, b = ranges[rho, 0], ranges[rho, 1]
        s = np.searchsorted(special, b) - 1
        stop = b
        cd, cr = 0.0, 0.0  # nothing carried
        while stop > a:
            # Nodes start+1..stop-1 continue a chain of first children; start is special or a.
            start = a
            if s >= 0 and special[s] >= a:
                start = special[s]
                s -= 1
            for i in range(stop - 1, start, -1):
                cd, cr = _chain_row(i, off[i], cd, cr, 0.0, 0.0, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x)
            i = start
            cd, cr = _chain_row(i, off[i], cd, cr, d_acc[i], r_acc[i], axial_diag, c_over_dt, g_scale, v, g, ge, fac,
                                x)
            d_acc[i], r_acc[i] = 0.0, 0.0
            p = parent[i]
            if not (p == i - 1 and i > a):
                if p >= 0 and p == pivot:
                    to_d += cd
                    to_r += cr
                elif p >= 0:
                    d_acc[p] -= cd
                    r_acc[p] -= cr
                cd, cr = 0.0, 0.0
            stop = start
    if owner:
        cd, cr = _eliminate_path(path, pivot, special, off, axial_diag, c_over_dt, g_scale, v, g, ge, d_acc, r_acc,
                                 fac, x)
        to_d += cd
        to_r += cr
    return to_d, to_r


@_inline
def _eliminate_path(path, pivot, special, off, axial_diag, c_over_dt, g_scale, v, g, ge, d_acc, r_acc, fac, x):
    """Eliminate the path (runs of consecutive nodes, root first) towards the ``pivot``, each node into the next.

    Within a run node i is coupled to i + 1 by ``off[i + 1]``; only special nodes read the
    accumulators.  Returns the carry ``(d, r)`` into the pivot.
    """
    cd, cr = 0.0, 0.0
    s = np.searchsorted(special, path[0, 0]) if path.shape[0] else 0
    for rho in range(path.shape[0]):
        i, end = path[rho, 0], path[rho, 1]
        o_last = off[path[rho + 1, 0] if rho + 1 < path.shape[0] else pivot]
        while i < end:
            while s < special.size and special[s] < i:
                s += 1
            stop = min(special[s] if s < special.size else end, end - 1)
            for k in range(i, stop):  # plain nodes, not the run's last
                cd, cr = _chain_row(k, off[k + 1], cd, cr, 0.0, 0.0, axial_diag, c_over_dt, g_scale, v, g, ge,
                                    fac, x)
            i = max(i, stop)
            o_up = off[i + 1] if i + 1 < end else o_last
            cd, cr = _chain_row(i, o_up, cd, cr, d_acc[i], r_acc[i], axial_diag, c_over_dt, g_scale, v, g, ge, fac,
                                x)
            d_acc[i], r_acc[i] = 0.0, 0.0
            i += 1
    return cd, cr


# The loops of solve_cable, compiled without reference counting (see _loop).
@_loop
def _plain_up(i, stop, cd, cr, off, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x):
    """Eliminate the plain nodes i..stop-1 of a chain, each into the next (coupled by ``off[k + 1]``)."""
    for k in range(i, stop):
        cd, cr = _chain_row(k, off[k + 1], cd, cr, 0.0, 0.0, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x)
    return cd, cr


@_loop
def _plain_down(i, stop, cd, cr, off, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x):
    """Eliminate the plain nodes i, i-1, ..., stop+1 of a chain, each into its parent (coupled by ``off[k]``)."""
    for k in range(i, stop, -1):
        cd, cr = _chain_row(k, off[k], cd, cr, 0.0, 0.0, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x)
    return cd, cr


@_loop
def _plain_two(ia, sa, ib, sb, count, ad, ar, bd, br, off, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x):
    """``count`` plain nodes of each of two lanes in one loop, from ``ia`` moving by ``sa`` and from
    ``ib`` by ``sb`` (+1: each node into the next, coupled by ``off[k + 1]``; -1: into its parent,
    by ``off[k]``)."""
    ua, ub = 1 if sa > 0 else 0, 1 if sb > 0 else 0
    for j in range(count):
        i = ia + sa * j
        ad, ar = _chain_row(i, off[i + ua], ad, ar, 0.0, 0.0, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x)
        i = ib + sb * j
        bd, br = _chain_row(i, off[i + ub], bd, br, 0.0, 0.0, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x)
    return ad, ar, bd, br


@_loop
def _back(i, stop, step, xp, k, dt, crank, fac, x, v, thresholds, crossings, above, t, crossing, low, high, total):
    """Substitute nodes i, i + step, ... up to ``stop`` (excluded) of a lane from ``xp``; the lane's xp and
    the running min, max and sum of the new voltages."""
    for i in range(i, stop, step):
        xp = x[i] - fac[i] * xp
        vn = _finish(i, k, xp, dt, crank, v, thresholds, crossings, above, t, crossing)
        low, high, total = min(low, vn), max(high, vn), total + vn
    return xp, low, high, total


@_loop
def _back_two(ia, sa, ib, sb, count, xa, xb, k, dt, crank, fac, x, v, thresholds, crossings, above, t, crossing, low,
              high, total):
    """Substitute ``count`` nodes of each of two plain lanes in one loop, from ``ia`` moving by ``sa``
    and from ``ib`` by ``sb``; as :func:`_back` for both lanes."""
    for j in range(count):
        i = ia + sa * j
        xa = x[i] - fac[i] * xa
        vn = _finish(i, k, xa, dt, crank, v, thresholds, crossings, above, t, crossing)
        low, high, total = min(low, vn), max(high, vn), total + vn
        i = ib + sb * j
        xb = x[i] - fac[i] * xb
        vn = _finish(i, k, xb, dt, crank, v, thresholds, crossings, above, t, crossing)
        low, high, total = min(low, vn), max(high, vn), total + vn
    return xa, xb, low, high, total


@_jit
def solve_cable(k, dt, crank, a, pivot, b, special, off, axial_diag, c_over_dt, g_scale, v, g, ge, d_acc, r_acc,
                fac, x, thresholds, crossings, above, t, crossing):
    """One implicit voltage step of one unbranched cable, nodes a..b-1 (root a), in two interleaved lanes.

    The nodes below the ``pivot`` are eliminated up towards it (each into the next) and
    those above it down towards it, in one loop: the two chains of dependent divisions run
    side by side (the Hines elimination of a cable waits on one division a node; two
    independent chains fill that wait).  The same arithmetic as the two parts of
    :func:`plan_parts`'s split, so the same numbers as two threads.  Returns as
    :func:`substitute_part`.
    """
    ia, ib = a, b - 1
    sa, sb = np.searchsorted(special, a), np.searchsorted(special, b) - 1
    ad, ar, bd, br = 0.0, 0.0, 0.0, 0.0
    while ia < pivot and ib > pivot:
        while sa < special.size and special[sa] < ia:
            sa += 1
        while sb >= 0 and special[sb] > ib:
            sb -= 1
        na = min(special[sa] if sa < special.size else pivot, pivot - 1)  # next row of A to read the accumulators
        nb = max(special[sb] if sb >= 0 else pivot, pivot + 1)
        step = min(na - ia, ib - nb)
        ad, ar, bd, br = _plain_two(ia, 1, ib, -1, step, ad, ar, bd, br, off, axial_diag, c_over_dt, g_scale, v, g,
                                    ge, fac, x)
        ia, ib = ia + step, ib - step
        if ia == na:
            ad, ar = _chain_row(ia, off[ia + 1], ad, ar, d_acc[ia], r_acc[ia], axial_diag, c_over_dt, g_scale, v, g,
                                ge, fac, x)
            d_acc[ia], r_acc[ia] = 0.0, 0.0
            ia += 1
        if ib == nb:
            bd, br = _chain_row(ib, off[ib], bd, br, d_acc[ib], r_acc[ib], axial_diag, c_over_dt, g_scale, v, g, ge,
                                fac, x)
            d_acc[ib], r_acc[ib] = 0.0, 0.0
            ib -= 1
    while ia < pivot:  # what is left of one lane
        while sa < special.size and special[sa] < ia:
            sa += 1
        na = min(special[sa] if sa < special.size else pivot, pivot - 1)
        ad, ar = _plain_up(ia, na, ad, ar, off, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x)
        ad, ar = _chain_row(na, off[na + 1], ad, ar, d_acc[na], r_acc[na], axial_diag, c_over_dt, g_scale, v, g, ge,
                            fac, x)
        d_acc[na], r_acc[na] = 0.0, 0.0
        ia = na + 1
    while ib > pivot:
        while sb >= 0 and special[sb] > ib:
            sb -= 1
        nb = max(special[sb] if sb >= 0 else pivot, pivot + 1)
        bd, br = _plain_down(ib, nb, bd, br, off, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x)
        bd, br = _chain_row(nb, off[nb], bd, br, d_acc[nb], r_acc[nb], axial_diag, c_over_dt, g_scale, v, g, ge, fac,
                            x)
        d_acc[nb], r_acc[nb] = 0.0, 0.0
        ib = nb - 1
    _solve_node(pivot, ad + bd, ar + br, g, ge, g_scale, c_over_dt, axial_diag, d_acc, r_acc, v, x)
    xa = xb = x[pivot]
    low, high, total = math.inf, -math.inf, 0.0
    vn = _finish(pivot, k, xa, dt, crank, v, thresholds, crossings, above, t, crossing)
    low, high, total = min(low, vn), max(high, vn), total + vn
    m = min(pivot - a, b - 1 - pivot)
    xa, xb, low, high, total = _back_two(pivot - 1, -1, pivot + 1, 1, m, xa, xb, k, dt, crank, fac, x, v, thresholds,
                                         crossings, above, t, crossing, low, high, total)
    xa, low, high, total = _back(pivot - m - 1, a - 1, -1, xa, k, dt, crank, fac, x, v, thresholds, crossings, above,
                                 t, crossing, low, high, total)
    xb, low, high, total = _back(pivot + m + 1, b, 1, xb, k, dt, crank, fac, x, v, thresholds, crossings, above, t,
                                 crossing, low, high, total)
    bad = -1
    if not math.isfinite(total):
        for i in range(a, b):
            if not math.isfinite(v[i]):
                bad = i
                break
    return bad < 0 and low >= TABLE_V_MIN and high < TABLE_V_MAX, bad


@_jit
def solve_pivot(pivot, part_d, part_r, g, ge, g_scale, c_over_dt, axial_diag, d_acc, r_acc, v, x):
    """The pivot's voltage (into ``x``) once every part has added its row to it (nothing without a pivot)."""
    if pivot >= 0:
        _solve_node(pivot, part_d.sum(), part_r.sum(), g, ge, g_scale, c_over_dt, axial_diag, d_acc, r_acc, v, x)


@_inline
def _solve_node(i, carry_d, carry_r, g, ge, g_scale, c_over_dt, axial_diag, d_acc, r_acc, v, x):
    """The last node of an elimination, its row less what was eliminated into it: its value into ``x``."""
    d = g[i] * g_scale[i] + c_over_dt[i] + axial_diag[i] + d_acc[i] - carry_d
    rr = ge[i] * g_scale[i] + v[i] * c_over_dt[i] + r_acc[i] - carry_r
    g[i], ge[i], d_acc[i], r_acc[i] = 0.0, 0.0, 0.0, 0.0
    x[i] = rr / d


@_jit
def substitute_part(k, dt, crank, ranges, special, pivot, path, owner, parent, fac, x, v, thresholds, crossings,
                    above, t, crossing):
    """Substitute the nodes of ``ranges`` back (the pivot and the path first); new voltages and crossings.

    Returns ``(on_table, bad)`` for these nodes: whether every new voltage lies on the rate
    tables, and the first node whose voltage is not finite (-1 if none).  ``x`` keeps the
    solution at special nodes (the branch points the next nodes read).
    """
    low, high, total = math.inf, -math.inf, 0.0
    if pivot >= 0 and owner:
        # the path from the pivot up to the root, a run of consecutive nodes at a time
        for rho in range(path.shape[0] - 1, -1, -1):
            xp = x[path[rho + 1, 0] if rho + 1 < path.shape[0] else pivot]
            for i in range(path[rho, 1] - 1, path[rho, 0] - 1, -1):
                xp = x[i] - fac[i] * xp
                x[i] = xp  # (read by the children off the path)
                vn = _finish(i, k, xp, dt, crank, v, thresholds, crossings, above, t, crossing)
                low, high, total = min(low, vn), max(high, vn), total + vn
        vn = _finish(pivot, k, x[pivot], dt, crank, v, thresholds, crossings, above, t, crossing)
        low, high, total = min(low, vn), max(high, vn), total + vn
    for rho in range(ranges.shape[0]):
        a, b = ranges[rho, 0], ranges[rho, 1]
        s = np.searchsorted(special, a)
        start = a
        xp = 0.0
        while start < b:
            if s < special.size and special[s] == start:
                s += 1
            stop = special[s] if s < special.size and special[s] < b else b
            # start is special or a: its parent may be any node before it
            i = start
            p = parent[i]
            if p == i - 1 and i > a:
                xp = x[i] - fac[i] * xp
            elif p >= 0:
                xp = x[i] - fac[i] * x[p]
            else:
                xp = x[i]
            x[i] = xp
            vn = _finish(i, k, xp, dt, crank, v, thresholds, crossings, above, t, crossing)
            low, high, total = min(low, vn), max(high, vn), total + vn
            for i in range(start + 1, stop):
                xp = x[i] - fac[i] * xp
                vn = _finish(i, k, xp, dt, crank, v, thresholds, crossings, above, t, crossing)
                low, high, total = min(low, vn), max(high, vn), total + vn
            start = stop
    bad = -1
    if not math.isfinite(total):
        bad = _first_bad(ranges, path if owner else path[:0], pivot if owner else -1, v)
    return bad < 0 and low >= TABLE_V_MIN and high < TABLE_V_MAX, bad


@_inline
def _finish(i, k, xp, dt, crank, v, thresholds, crossings, above, t, crossing):
    """Node ``i``'s new voltage (mV) from the solve's ``xp``, written to ``v``; its crossing."""
    vn = xp * 2.0 - v[i] if crank else xp
    if crossing:
        now = vn >= thresholds[i]
        if now and not above[i] and math.isnan(crossings[i]):
            crossings[i] = t[k] + (thresholds[i] - v[i]) / (vn - v[i]) * dt
        above[i] = now
    v[i] = vn
    return vn


@_jit
def _first_bad(ranges, path, pivot, v):
    """The first node of these whose voltage is not finite (-1 if none)."""
    bad = -1
    for rho in range(path.shape[0]):
        for i in range(path[rho, 0], path[rho, 1]):
            if not math.isfinite(v[i]) and (bad < 0 or i < bad):
                bad = i
    if pivot >= 0 and not math.isfinite(v[pivot]) and (bad < 0 or pivot < bad):
        bad = pivot
    for rho in range(ranges.shape[0]):
        for i in range(ranges[rho, 0], ranges[rho, 1]):
            if not math.isfinite(v[i]):
                return i if bad < 0 or i < bad else bad
    return bad


@_jit
def special_nodes(parent, extra):
    """Nodes where a chain of first children breaks, ascending: roots, nodes whose parent is
    not the node before them, those parents, and the nodes of ``extra`` (stimulated nodes)."""
    n = parent.size
    mark = np.zeros(n, np.bool_)
    for i in range(n):
        p = parent[i]
        if p != i - 1 or p < 0:
            mark[i] = True
            if p >= 0:
                mark[p] = True
    for i in extra:
        mark[i] = True
    return np.flatnonzero(mark).astype(np.int64)


#: Couplings below this are dropped (their effect on a voltage is below 1e-280 mV): arithmetic on
#: subnormal numbers takes ~100 cycles.
TINY = 1e-280

# -- one cable on two threads: four lanes and three separators ----------------------------------
# The cable 0..n-1 is cut at separators q1 < q2 < q3 into four lanes.  Thread 0 eliminates
# lane 0 (nodes 0..q1-1, upwards into q1) and lane 1 (q1+1..q2-1, upwards into q2) side by
# side; thread 1, mirrored, lane 3 (n-1..q3+1, downwards into q3) and lane 2 (q3-1..q2+1,
# downwards into q2).  Lanes 1 and 2 start next to a separator (q1, q3) and carry its
# coupling along as fill ("spikes": each row's coupling to that separator, kept in ``spk``
# until it decays below TINY, after which the rest of the lane is a plain one), which leaves
# a 3 x 3 system on the separators.  The division chains of the two lanes run side by side,
# as in :func:`solve_cable` (the longer lane's last rows alone).
@_loop
def _lane_pair(i0, j0, count, step, ad, ar, bd, br, w, dq, rq, off, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x,
               spk):
    """Up to ``count`` rows of a plain lane from ``i0`` and of a spiked lane from ``j0``, both
    moving by ``step`` (+1: each node into the next; -1: into its parent), until the spiked
    lane's coupling has died out.  ``w`` is that lane's current coupling to its separator,
    ``dq``, ``rq`` what it has taken from that separator's diagonal and right-hand side.
    Returns the rows taken, the carries, w, dq and rq."""
    up = 1 if step > 0 else 0
    for t in range(count):
        if w == 0.0:
            return t, ad, ar, bd, br, w, dq, rq
        i = i0 + step * t
        ad, ar = _chain_row(i, off[i + up], ad, ar, 0.0, 0.0, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x)
        j = j0 + step * t
        bd, br, w, dq, rq = _spiked_row(j, off[j + up], bd, br, w, dq, rq, axial_diag, c_over_dt, g_scale, v, g, ge,
                                        fac, x, spk)
    return count, ad, ar, bd, br, w, dq, rq


@_inline
def _spiked_row(j, o, cd, cr, w, dq, rq, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x, spk):
    """:func:`_chain_row` for a node also coupled (by ``w``) to a separator."""
    d = g[j] * g_scale[j] + c_over_dt[j] + axial_diag[j] - cd
    rr = ge[j] * g_scale[j] + v[j] * c_over_dt[j] - cr
    g[j], ge[j] = 0.0, 0.0
    r = 1.0 / d
    f = o * r
    fac[j] = f
    xj = rr * r
    x[j] = xj
    sp = w * r
    spk[j] = sp
    w_next = -o * sp
    if abs(w_next) < TINY:  # the coupling decays geometrically along the lane: no subnormal arithmetic
        w_next = 0.0
    return f * o, f * rr, w_next, dq + w * sp, rq + w * xj


@_loop
def _spiked(j0, count, step, bd, br, w, dq, rq, off, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x, spk):
    """Up to ``count`` rows of a spiked lane alone, until its coupling has died out (see
    :func:`_lane_pair`); the rows taken, its carries, w, dq and rq."""
    up = 1 if step > 0 else 0
    for t in range(count):
        if w == 0.0:
            return t, bd, br, w, dq, rq
        j = j0 + step * t
        bd, br, w, dq, rq = _spiked_row(j, off[j + up], bd, br, w, dq, rq, axial_diag, c_over_dt, g_scale, v, g, ge,
                                        fac, x, spk)
    return count, bd, br, w, dq, rq


@_inline
def _plain_run(i, count, step, cd, cr, off, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x):
    """``count`` plain rows of a lane from ``i`` moving by ``step`` (:func:`_plain_up`, :func:`_plain_down`)."""
    if step > 0:
        return _plain_up(i, i + count, cd, cr, off, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x)
    return _plain_down(i, i - count, cd, cr, off, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x)


@_jit
def eliminate_quarter(w, q, n, off, axial_diag, c_over_dt, g_scale, v, g, ge, d_acc, r_acc, fac, x, spk, out):
    """Thread ``w``'s two lanes of a cable cut at ``q`` = (q1, q2, q3) (see above).

    Writes into ``out[w]``: the plain lane's carry into its separator (d, r), the spiked
    lane's carry into q2 (d, r), its coupling between q2 and its own separator, what it took
    from that separator (d, r), and how many of its rows carry a coupling (the coupling
    decays geometrically along the lane: once it is dropped, below :data:`TINY`, the rest of
    the lane is eliminated as a plain one and ``spk`` is neither written nor read there).

    The cable's end (node 0 or n-1, which may carry a stimulus) is eliminated first with its
    accumulators; other stimuli were folded into ``ge`` (:func:`fold_stimuli`).
    """
    q1, q2, q3 = q[0], q[1], q[2]
    if w == 0:
        end, step, n_plain, j0, n_spiked, sep = 0, 1, q1, q1 + 1, q2 - q1 - 1, q1
    else:
        end, step, n_plain, j0, n_spiked, sep = n - 1, -1, n - 1 - q3, q3 - 1, q3 - q2 - 1, q3
    up = 1 if step > 0 else 0
    ad, ar = _chain_row(end, off[end + up], 0.0, 0.0, d_acc[end], r_acc[end], axial_diag, c_over_dt, g_scale, v, g,
                        ge, fac, x)
    d_acc[end], r_acc[end] = 0.0, 0.0
    m = min(n_plain - 1, n_spiked)  # rows 1..m of the plain lane beside rows 0..m-1 of the spiked one
    t, ad, ar, bd, br, cw, dq, rq = _lane_pair(end + step, j0, m, step, ad, ar, 0.0, 0.0, off[sep + up], 0.0, 0.0,
                                               off, axial_diag, c_over_dt, g_scale, v, g, ge, fac, x, spk)
    ad, ar, bd, br = _plain_two(end + step * (t + 1), step, j0 + step * t, step, m - t, ad, ar, bd, br, off,
                                axial_diag, c_over_dt, g_scale, v, g, ge, fac, x)
    ad, ar = _plain_run(end + step * (m + 1), n_plain - 1 - m, step, ad, ar, off, axial_diag, c_over_dt, g_scale, v,
                        g, ge, fac, x)
    spiked = t
    if t == m:  # the coupling outlived the plain lane
        u, bd, br, cw, dq, rq = _spiked(j0 + step * m, n_spiked - m, step, bd, br, cw, dq, rq, off, axial_diag,
                                        c_over_dt, g_scale, v, g, ge, fac, x, spk)
        spiked = m + u
    rest = max(spiked, m)
    bd, br = _plain_run(j0 + step * rest, n_spiked - rest, step, bd, br, off, axial_diag, c_over_dt, g_scale, v, g,
                        ge, fac, x)
    out[w, 0], out[w, 1], out[w, 2], out[w, 3], out[w, 4], out[w, 5], out[w, 6] = ad, ar, bd, br, cw, dq, rq
    out[w, 7] = spiked


@_jit
def solve_separators(q, out, g, ge, g_scale, c_over_dt, axial_diag, d_acc, r_acc, v, x):
    """The voltages of the three separators (into ``x``) from the lanes' rows (``out`` of
    :func:`eliminate_quarter`): a 3 x 3 symmetric tridiagonal system."""
    dd, rr = np.empty(3), np.empty(3)
    for s in range(3):
        i = q[s]
        dd[s] = g[i] * g_scale[i] + c_over_dt[i] + axial_diag[i] + d_acc[i]
        rr[s] = ge[i] * g_scale[i] + v[i] * c_over_dt[i] + r_acc[i]
        g[i], ge[i], d_acc[i], r_acc[i] = 0.0, 0.0, 0.0, 0.0
    dd[0] -= out[0, 0] + out[0, 5]
    rr[0] -= out[0, 1] + out[0, 6]
    dd[1] -= out[0, 2] + out[1, 2]
    rr[1] -= out[0, 3] + out[1, 3]
    dd[2] -= out[1, 0] + out[1, 5]
    rr[2] -= out[1, 1] + out[1, 6]
    c12, c23 = out[0, 4], out[1, 4]
    f1 = c12 / dd[0]  # Thomas from q1 to q3
    d2 = dd[1] - f1 * c12
    r2 = rr[1] - f1 * rr[0]
    f2 = c23 / d2
    x3 = (rr[2] - f2 * r2) / (dd[2] - f2 * c23)
    x2 = (r2 - c23 * x3) / d2
    x[q[0]], x[q[1]], x[q[2]] = (rr[0] - c12 * x2) / dd[0], x2, x3


@_loop
def _back_spiked(j0, count, step, xp, xs, k, dt, crank, fac, x, spk, v, thresholds, crossings, above, t, crossing,
                 low, high, total):
    """Substitute ``count`` nodes of a spiked lane from ``j0`` by ``step`` (``xs``: its separator's value)."""
    for s in range(count):
        j = j0 + step * s
        xp = x[j] - fac[j] * xp - spk[j] * xs
        vn = _finish(j, k, xp, dt, crank, v, thresholds, crossings, above, t, crossing)
        low, high, total = min(low, vn), max(high, vn), total + vn
    return xp, low, high, total


@_loop
def _back_pair(i0, j0, count, step, xa, xb, xs, k, dt, crank, fac, x, spk, v, thresholds, crossings, above, t,
               crossing, low, high, total):
    """Substitute ``count`` nodes of a plain lane from ``i0`` and of a spiked lane from ``j0`` side by side."""
    for s in range(count):
        i = i0 + step * s
        xa = x[i] - fac[i] * xa
        vn = _finish(i, k, xa, dt, crank, v, thresholds, crossings, above, t, crossing)
        low, high, total = min(low, vn), max(high, vn), total + vn
        j = j0 + step * s
        xb = x[j] - fac[j] * xb - spk[j] * xs
        vn = _finish(j, k, xb, dt, crank, v, thresholds, crossings, above, t, crossing)
        low, high, total = min(low, vn), max(high, vn), total + vn
    return xa, xb, low, high, total


@_jit
def substitute_quarter(w, k, dt, crank, q, n, fac, x, spk, out, v, thresholds, crossings, above, t, crossing):
    """Thread ``w``'s two lanes substituted back from the separators (thread 0 also finishes the
    separators), the spiked lane's last ``out[w, 7]`` rows with their coupling (see
    :func:`eliminate_quarter`); returns ``(on_table, bad)`` as :func:`substitute_part`."""
    q1, q2, q3 = q[0], q[1], q[2]
    low, high, total = math.inf, -math.inf, 0.0
    if w == 0:
        for s in range(3):
            vn = _finish(q[s], k, x[q[s]], dt, crank, v, thresholds, crossings, above, t, crossing)
            low, high, total = min(low, vn), max(high, vn), total + vn
        i0, step, n_plain, j0, n_spiked, sep = q1 - 1, -1, q1, q2 - 1, q2 - q1 - 1, q1
    else:
        i0, step, n_plain, j0, n_spiked, sep = q3 + 1, 1, n - 1 - q3, q2 + 1, q3 - q2 - 1, q3
    m = min(n_plain, n_spiked)
    s0 = n_spiked - int(out[w, 7])  # the spiked lane's rows from s0 on carry a coupling
    m1 = min(m, s0)
    xa, xb, low, high, total = _back_two(i0, step, j0, step, m1, x[sep], x[q2], k, dt, crank, fac, x, v, thresholds,
                                         crossings, above, t, crossing, low, high, total)
    xa, xb, low, high, total = _back_pair(i0 + step * m1, j0 + step * m1, m - m1, step, xa, xb, x[sep], k, dt,
                                          crank, fac, x, spk, v, thresholds, crossings, above, t, crossing, low,
                                          high, total)
    xa, low, high, total = _back(i0 + step * m, i0 + step * n_plain, step, xa, k, dt, crank, fac, x, v, thresholds,
                                 crossings, above, t, crossing, low, high, total)
    r = max(m, s0)
    xb, low, high, total = _back(j0 + step * m, j0 + step * r, step, xb, k, dt, crank, fac, x, v, thresholds,
                                 crossings, above, t, crossing, low, high, total)
    xb, low, high, total = _back_spiked(j0 + step * r, n_spiked - r, step, xb, x[sep], k, dt, crank, fac, x, spk, v,
                                        thresholds, crossings, above, t, crossing, low, high, total)
    bad = -1
    if not math.isfinite(total):  # thread 0 holds 0..q2 and q3, thread 1 q2+1..n-1
        a, b = (0, q2 + 1) if w == 0 else (q2 + 1, n)
        for i in range(a, b):
            if not math.isfinite(v[i]):
                bad = i
                break
        if bad < 0 and w == 0:
            bad = q3
    return bad < 0 and low >= TABLE_V_MIN and high < TABLE_V_MAX, bad


@_jit
def fold_stimuli(special, q, n, g_scale, r_acc, ge):
    """Move what the accumulators hold at special nodes inside the lanes (stimuli) into ``ge``
    (as a conductance times a potential over the node's area): the lanes' loops read no
    accumulators.  The cable's ends and the separators keep theirs.  Nothing without ``q``."""
    if q[1] < 0:
        return
    for i in special:
        if i == 0 or i == n - 1 or i == q[0] or i == q[1] or i == q[2]:
            continue
        ge[i] += r_acc[i] / g_scale[i]
        r_acc[i] = 0.0


@_jit
def eliminate_any(w, solve, special, pivot, path, owner, quad, parent, off, axial_diag, c_over_dt, g_scale, v, g, ge,
                  d_acc, r_acc, fac, x, spk, part_d, part_r, part_out):
    """Part w's elimination: its lanes of a cable in four (``quad``), else its ranges (and the path)."""
    if quad[1] >= 0:
        eliminate_quarter(w, quad, v.size, off, axial_diag, c_over_dt, g_scale, v, g, ge, d_acc, r_acc, fac, x, spk,
                          part_out)
    else:
        part_d[w], part_r[w] = eliminate_part(solve[w], special, pivot, path, w == owner, parent, off, axial_diag,
                                              c_over_dt, g_scale, v, g, ge, d_acc, r_acc, fac, x)


@_jit
def solve_middle(pivot, quad, part_d, part_r, part_out, g, ge, g_scale, c_over_dt, axial_diag, d_acc, r_acc, v, x):
    """The separators of a cable in four lanes, else the pivot (nothing without one)."""
    if quad[1] >= 0:
        solve_separators(quad, part_out, g, ge, g_scale, c_over_dt, axial_diag, d_acc, r_acc, v, x)
    else:
        solve_pivot(pivot, part_d, part_r, g, ge, g_scale, c_over_dt, axial_diag, d_acc, r_acc, v, x)


@_jit
def substitute_any(w, k, dt, crank, solve, special, pivot, path, owner, quad, parent, fac, x, spk, part_out, v,
                   thresholds, crossings, above, t, crossing):
    """Part w's substitution (as :func:`eliminate_any`); returns ``(on_table, bad)``."""
    if quad[1] >= 0:
        return substitute_quarter(w, k, dt, crank, quad, v.size, fac, x, spk, part_out, v, thresholds, crossings,
                                  above, t, crossing)
    return substitute_part(k, dt, crank, solve[w], special, pivot, path, w == owner, parent, fac, x, v, thresholds,
                           crossings, above, t, crossing)


def cable_quarters(parent, g_scale, stim_nodes):
    """Separators ``(q1, q2, q3)`` for one cable on two threads (see :func:`eliminate_quarter`),
    or ``(-1, -1, -1)`` where that scheme does not apply: not one unbranched cable, fewer than
    64 nodes, or a stimulus at a node of no membrane area inside a lane (it cannot be folded)."""
    none = np.full(3, -1, dtype=np.int64)
    n = parent.size
    if n < 64 or cable_lanes(parent)[1] < 0:
        return none
    q2 = n // 2
    q = np.array([(q2 - 1) // 2, q2, q2 + 1 + (n - q2 - 1) // 2], dtype=np.int64)
    inside = [i for i in np.asarray(stim_nodes) if 0 < i < n - 1 and i not in q]
    if any(g_scale[i] == 0.0 for i in inside):
        return none
    return q


def cable_lanes(parent):
    """``(a, pivot, b)`` for :func:`solve_cable` if the forest ``parent`` is one unbranched cable
    of at least 3 nodes (root 0, each node's parent the node before it), else ``(-1, -1, -1)``."""
    cables, rest = cell_kinds(parent, [(0, parent.size)])
    if cables.shape[0] == 1 and cables[0, 0] == 0 and cables[0, 2] == parent.size:
        return cables[0]
    return np.full(3, -1, dtype=np.int64)


def cell_kinds(parent, ranges):
    """The whole cells in ``ranges`` (rows (start, stop)), sorted into unbranched cables of at
    least 3 nodes, as rows ``(a, pivot, b)`` for :func:`solve_cable` (pivot the middle node),
    and the rest as ranges (adjacent ones merged).  Each array holds at least one row: an
    empty one is ``(-1, -1, -1)`` and ``(0, 0)``."""
    parent = np.asarray(parent)
    n = parent.size
    breaks = np.cumsum(np.r_[0, parent[1:] != np.arange(n - 1)])  # breaks[i]: chain breaks in 1..i
    cables, rest = [], []
    for a, b in ranges:
        roots = a + np.flatnonzero(parent[a:b] < 0)
        for r, end in zip(roots, np.r_[roots[1:], b]):
            r, end = int(r), int(end)
            if end - r >= 3 and breaks[end - 1] == breaks[r]:
                cables.append((r, r + (end - r) // 2, end))
            elif rest and rest[-1][1] == r:
                rest[-1] = (rest[-1][0], end)
            elif end > r:
                rest.append((r, end))
    return (np.array(cables or [(-1, -1, -1)], dtype=np.int64).reshape(-1, 3),
            np.array(rest or [(0, 0)], dtype=np.int64).reshape(-1, 2))


@_jit
def solve_cells(k, dt, crank, cables, rest, special, parent, off, axial_diag, c_over_dt, g_scale, v, g, ge, d_acc,
                r_acc, fac, x, thresholds, crossings, above, t, crossing):
    """One step of whole cells (stimuli already added): the ``cables`` by :func:`solve_cable`,
    the cells in the ranges ``rest`` by Hines elimination; returns as :func:`substitute_part`."""
    on_table, bad = True, -1
    for c in range(cables.shape[0]):
        if cables[c, 1] < 0:
            break
        on, b = solve_cable(k, dt, crank, cables[c, 0], cables[c, 1], cables[c, 2], special, off, axial_diag,
                            c_over_dt, g_scale, v, g, ge, d_acc, r_acc, fac, x, thresholds, crossings, above, t,
                            crossing)
        on_table &= on
        if b >= 0 and (bad < 0 or b < bad):
            bad = b
    eliminate_part(rest, special, -1, rest[:0], False, parent, off, axial_diag, c_over_dt, g_scale, v, g, ge, d_acc,
                   r_acc, fac, x)
    on, b = substitute_part(k, dt, crank, rest, special, -1, rest[:0], False, parent, fac, x, v, thresholds,
                            crossings, above, t, crossing)
    if b >= 0 and (bad < 0 or b < bad):
        bad = b
    return on_table and on and bad < 0, bad


@_jit
def add_stimuli(k, which, stim_nodes, stim_amp, r_acc):
    """Add step ``k``'s stimulus currents (nA, columns ``which`` up to a -1) to their nodes' right-hand sides."""
    add_stimuli_in(k, which, 0, r_acc.size, stim_nodes, stim_amp, r_acc)


@_jit
def add_stimuli_in(k, which, lo, hi, stim_nodes, stim_amp, r_acc):
    """:func:`add_stimuli` for the stimuli at nodes lo..hi-1 only."""
    for s in which:
        if s < 0:
            break
        if lo <= stim_nodes[s] < hi:
            r_acc[stim_nodes[s]] += stim_amp[k, s]


#: A page of memory, and the distance (bytes) between the starts of the run's per-node arrays
#: within a page (:class:`Staggered`).
PAGE_BYTES, STAGGER_BYTES = 4096, 128
#: Rows of the work array the run loops (not run_extracellular) take: g, ge, d_acc, r_acc, fac, x
#: (and run_parallel, for one cable in four lanes, a seventh: the lanes' fill).
WORK_ROWS = 6


class Staggered:
    """Allocates a run's per-node arrays so that they start at different offsets in a page.

    The L1 cache is indexed by the address modulo a page, so arrays that start at the same
    offset put their i-th elements in the same set, and a loop over more such streams than
    the cache has ways evicts its own lines.  Large arrays allocated one after the other often
    do (each is mapped on whole pages; the run's work arrays, allocated by numba, all did).
    Each array, or row of a 2-D array, handed out here starts :data:`STAGGER_BYTES` after the
    previous one, modulo :data:`PAGE_BYTES` (the 33rd wraps round to the first's offset).
    Figures: ``benchmarks/README.md``, "Arrays staggered in a page".
    """

    def __init__(self):
        self.slot = 0

    def rows(self, count, n, dtype=np.float64):
        """Zeros, each row starting at its own offset in a page.

        Parameters
        ----------
        count : int
            Rows.
        n : int
            Elements a row must hold.
        dtype : numpy dtype, optional
            Of a size that divides :data:`STAGGER_BYTES`.

        Returns
        -------
        ndarray
            Shape ``(count, m)``, ``m >= n`` (the rows padded), C-contiguous.
        """
        item = np.dtype(dtype).itemsize
        per_page, step = PAGE_BYTES // item, STAGGER_BYTES // item
        m = n + (step - n) % per_page  # the rows' stride is STAGGER_BYTES past whole pages
        buf = np.zeros(count * m + per_page, dtype)
        start = (self.slot * step - buf.ctypes.data // item) % per_page
        self.slot += count
        return buf[start:start + count * m].reshape(count, m)

    def copy(self, a):
        """A copy of the 1-D array ``a`` that starts at its own offset in a page."""
        out = self.rows(1, a.size, a.dtype)[0, :a.size]
        out[:] = a
        return out


@_jit
def work_rows(work, n):
    """A run's work arrays, the first :data:`WORK_ROWS` rows of ``work`` cut to ``n`` nodes:
    g and ge (conductance, S/cm², and conductance × reversal, mV S/cm²) and d_acc and r_acc
    (added to a node's row: stimuli, non-adjacent children), zeroed; fac and x (the
    elimination's, written before they are read)."""
    g, ge, d_acc, r_acc = work[0, :n], work[1, :n], work[2, :n], work[3, :n]
    g[:], ge[:], d_acc[:], r_acc[:] = 0.0, 0.0, 0.0, 0.0
    return g, ge, d_acc, r_acc, work[4, :n], work[5, :n]


#: Nodes a block of whole cells holds at most (unless one cell is larger): a block steps
#: ALONE_STEPS steps while its arrays stay in a core's cache (~160 bytes a node).
BLOCK_NODES = 4096


def blocks_of(parent, ranges, target=None):
    """The whole cells in ``ranges`` grouped into blocks of consecutive cells of about
    ``target`` nodes (:data:`BLOCK_NODES`), each sorted as :func:`cell_kinds`.

    Returns ``(cables, rest, blocks)``: the blocks' cables and rest ranges one block after
    the other, and per block a row ``(lo, hi, c0, c1, r0, r1)``: its nodes lo..hi-1, its
    cables ``cables[c0:c1]`` and ranges ``rest[r0:r1]``.
    """
    target = BLOCK_NODES if target is None else target
    parent = np.asarray(parent)
    cells = []
    for a, b in ranges:
        roots = a + np.flatnonzero(parent[a:b] < 0)
        cells += list(zip(roots.tolist(), np.r_[roots[1:], b].astype(int).tolist()))
    spans = []
    for r, end in cells:
        if spans and spans[-1][1] == r and end - spans[-1][0] <= target:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((r, end))
    cables, rest, blocks = [], [], []
    for lo, hi in spans:
        c, r = cell_kinds(parent, [(lo, hi)])
        c, r = c[c[:, 1] >= 0], r[r[:, 1] > r[:, 0]]
        blocks.append((lo, hi, len(cables), len(cables) + len(c), len(rest), len(rest) + len(r)))
        cables += c.tolist()
        rest += r.tolist()
    return (np.array(cables or [(-1, -1, -1)], dtype=np.int64).reshape(-1, 3),
            np.array(rest or [(0, 0)], dtype=np.int64).reshape(-1, 2),
            np.array(blocks or [(0, 0, 0, 0, 0, 0)], dtype=np.int64).reshape(-1, 6))


@_jit
def tables_usable(v, all_on_table, ptr, nodes, use_table, out):
    """Into ``out``: which groups advance by their rate table this step (all their voltages on it)."""
    for grp in range(ptr.size - 1):
        on = use_table[grp]
        if on and not all_on_table:
            for j in range(ptr[grp], ptr[grp + 1]):
                x = v[nodes[j]]
                if not (x >= TABLE_V_MIN and x < TABLE_V_MAX):
                    on = False
                    break
        out[grp] = on


@_jit
def _subtrees(parent):
    """Size, first and last node of every node's subtree."""
    n = parent.size
    size = np.ones(n, np.int64)
    first, last = np.arange(n), np.arange(n)
    for i in range(n - 1, -1, -1):
        p = parent[i]
        if p >= 0:
            size[p] += size[i]
            first[p] = min(first[p], first[i])
            last[p] = max(last[p], last[i])
    return size, first, last


class Plan:
    """How the forest is cut into parts, one per thread (see :func:`plan_parts`).

    Attributes
    ----------
    ranges : ndarray of int, shape (n_parts, n_ranges, 2)
        Each part's node ranges (start, stop), ascending, padded with empty ranges.
    solve : ndarray of int, shape (n_parts, n_solve_ranges, 2)
        The same without the pivot and the path (eliminated apart).
    pivot : int
        The node a cell is split at (-1 if cells are not split).
    path : ndarray of int
        The nodes from that cell's root to the pivot's parent (empty if the pivot is a root).
    path_runs : ndarray of int, shape (n_runs, 2)
        The path as runs (start, stop) of consecutive nodes, root first: what the kernels take.
    owner : int
        The part holding the pivot and the path (-1 if none).
    """

    def __init__(self, ranges, pivot=-1, path=(), owner=-1):
        self.ranges = ranges
        self.pivot, self.owner = int(pivot), int(owner)
        self.path = np.asarray(path, dtype=np.int64)
        breaks = np.flatnonzero(np.diff(self.path) != 1) + 1
        self.path_runs = np.array([(int(r[0]), int(r[-1]) + 1) for r in np.split(self.path, breaks) if r.size],
                                  dtype=np.int64).reshape(-1, 2)
        apart = np.sort(np.concatenate([self.path, [self.pivot] if self.pivot >= 0 else []])).astype(np.int64)
        self.solve = _padded([_without(rs, apart) for rs in ranges])

    @property
    def n_parts(self):
        return self.ranges.shape[0]

    def loads(self):
        """Nodes in each part."""
        return (self.ranges[:, :, 1] - self.ranges[:, :, 0]).sum(axis=1)


def _deal(sizes, n_parts):
    """Items dealt to parts, largest first to the least loaded part; (part of each item, loads)."""
    where = np.zeros(len(sizes), dtype=np.int64)
    loads = np.zeros(n_parts, dtype=np.int64)
    for i in np.argsort(-np.asarray(sizes), kind="stable"):
        w = int(np.argmin(loads))
        where[i] = w
        loads[w] += sizes[i]
    return where, loads


#: Steps whole cells take on their own threads between waits for each other (see ``run_parallel``).
ALONE_STEPS = 64
#: Pivots tried per split (the cells' nodes whose largest piece is smallest).
PIVOT_CANDIDATES = 32


def plan_parts(parent, n_parts):
    """Cut the forest ``parent`` (Hines order) into ``n_parts`` parts of about equal size.

    Whole cells are dealt to parts, largest first.  If that leaves a part more than 2 %
    over an equal share, the largest cell is split at one node (the pivot) into its root's
    piece (with the pivot) and the subtrees below the pivot, choosing among the nodes whose
    largest piece is smallest the one that deals best.  A cell can be split only where the
    subtrees are runs of consecutive nodes (always so in hhcable's numbering); a plain
    cable splits in two (more parts would need a pivot per cut and a coupled system
    between them).
    """
    parent = np.ascontiguousarray(parent, dtype=np.int64)
    n = parent.size
    size, first, last = _subtrees(parent)
    roots = np.flatnonzero(parent < 0)
    items = [(int(size[r]), [(int(r), int(r + size[r]))]) for r in roots]
    where, loads = _deal([s for s, _ in items], n_parts)
    split = None
    big = int(roots[np.argmax(size[roots])])
    if loads.max() > 1.02 * n / n_parts and size[big] > 2:
        split = _split(parent, size, first, last, big, [s for s, _ in items if _[0][0] != big], n_parts)
    pivot, path, owner = -1, np.zeros(0, np.int64), -1
    if split is not None:
        pivot, pieces = split
        items = [it for it in items if it[1][0][0] != big] + pieces
        where, loads = _deal([s for s, _ in items], n_parts)
        owner = int(where[len(items) - len(pieces)])
        path = _ancestors(parent, pivot)
    parts = [sorted(r for (_, rs), w in zip(items, where) if w == part for r in rs) for part in range(n_parts)]
    return Plan(_padded(parts), pivot, path, owner)


def _padded(parts):
    """Lists of ranges (start, stop), adjacent ones merged, as one array padded with empty ranges."""
    merged = []
    for rs in parts:
        out = []
        for a, b in rs:
            if b <= a:
                continue
            if out and out[-1][1] == a:
                out[-1] = (out[-1][0], b)
            else:
                out.append((int(a), int(b)))
        merged.append(out)
    ranges = np.zeros((len(parts), max(1, max(len(rs) for rs in merged)), 2), dtype=np.int64)
    for w, rs in enumerate(merged):
        if rs:
            ranges[w, :len(rs)] = rs
    return ranges


def _without(ranges, apart):
    """``ranges`` (start, stop) without the nodes of the ascending array ``apart``."""
    out = []
    for a, b in ranges:
        cut = apart[np.searchsorted(apart, a):np.searchsorted(apart, b)]
        starts, stops = np.r_[a, cut + 1], np.r_[cut, b]
        keep = stops > starts
        out += list(zip(starts[keep].tolist(), stops[keep].tolist()))
    return out


@_jit
def _ancestors(parent, node):
    """The nodes from the root down to ``node``'s parent."""
    count, i = 0, parent[node]
    while i >= 0:
        count += 1
        i = parent[i]
    out = np.empty(count, np.int64)
    i = parent[node]
    while i >= 0:
        count -= 1
        out[count] = i
        i = parent[i]
    return out


def _split(parent, size, first, last, root, others, n_parts):
    """The best pivot in the cell rooted at ``root``: ``(pivot, pieces)``, or None."""
    a, b = root, root + int(size[root])
    worst = _largest_piece(parent, size, first, last, a, b)
    best = None
    k = min(PIVOT_CANDIDATES, b - a)
    for r in a + np.argpartition(worst, k - 1)[:k]:
        if worst[r - a] > b - a:
            continue
        end = int(r + size[r])
        pieces = [(int(size[a] - size[r]) + 1, [(a, int(r) + 1), (end, b)])]
        c = int(r) + 1
        while c < end:  # the children of r: subtrees one after the other
            pieces.append((int(size[c]), [(c, int(c + size[c]))]))
            c += int(size[c])
        _, loads = _deal(others + [s for s, _ in pieces], n_parts)
        if best is None or loads.max() < best[0]:
            best = (loads.max(), int(r), pieces)
    return None if best is None else best[1:]


@_jit
def _largest_piece(parent, size, first, last, a, b):
    """For each node of the cell [a, b): the largest piece the cell falls into without it
    (b - a + 1 where it or a child's subtree is not a run of consecutive nodes)."""
    whole = np.empty(b - a, np.bool_)
    for i in range(a, b):
        whole[i - a] = first[i] == i and last[i] - first[i] + 1 == size[i]
    worst = np.empty(b - a, np.int64)
    for i in range(a, b):
        worst[i - a] = size[a] - size[i] + 1 if whole[i - a] else b - a + 1
    for i in range(a + 1, b):
        p = parent[i] - a
        if not whole[i - a]:
            worst[p] = b - a + 1
        elif worst[p] <= b - a:
            worst[p] = max(worst[p], size[i])
    return worst


# -- generating the model's kernel --------------------------------------------------------------


def _membrane_jit():
    """Decorator line of the generated membrane code (options: :data:`hhcable.vecmath.JIT_OPTIONS`)."""
    options = vecmath.JIT_OPTIONS
    # the flags sorted: a set's order changes from process to process (string hashing), and a
    # changed source file makes numba compile its cached functions again
    fastmath = "{" + ", ".join(repr(flag) for flag in sorted(options["fastmath"])) + "}"
    return f"@numba.njit(cache=True, error_model={options['error_model']!r}, fastmath={fastmath})"


def _membrane_source(c, spec):
    """Source of ``membrane_c`` (with ``gates_c``, ``conductances_c``) and ``current_c`` for class ``c``.

    For each group ``membrane_c`` decides once whether the gates advance by the rate table
    or by the exact rates, takes 1-D views of the group's rows (voltages, conductance sums,
    parameters, gates) when its nodes are consecutive, or gathered copies when they are not,
    and runs one branch-free loop over them: the gate update and the conductances at the new
    gates (``gates_c``; ``conductances_c`` alone where the gates do not advance).  With exact
    rates LLVM vectorises the loop: the channel's functions are inlined and their exp, expm1
    and cbrt are plain arithmetic (:func:`_jit_tree`, :mod:`hhcable.vecmath`).
    """
    gate_names = [gate.name for gate in spec.gates]
    kinetic = [p for p in spec.params if any(p in gate.args for gate in spec.gates)]
    # In the loops: p_NAME, s_NAME are rows (1-D), k_NAME a kinetic parameter (one value per
    # group), NAME_ a gate's new value at node j; x, gx, gex the voltages and conductance sums.
    arg = {**{p: f"k_{p}" if p in kinetic else f"p_{p}[j]" for p in spec.params},
           **{name: f"{name}_" for name in gate_names}}
    conds = [f"c{r} = _c{c}_current{r}({', '.join(arg[a] for a in cur.args)})"
             for r, (_, cur) in enumerate(spec.currents)]
    sums = []
    if spec.currents:
        sums = [f"gx[j] += {' + '.join(f'c{r}' for r in range(len(spec.currents)))}",
                f"gex[j] += {' + '.join(f'c{r} * {arg[cur.e]}' for r, (_, cur) in enumerate(spec.currents))}"]
    store = [f"s_{name}[j] = {name}_" for name in gate_names]
    by_table = ["u = (x[j] - V_MIN) * inv_dv", "k = int(u)", "u -= k"]
    for i, name in enumerate(gate_names):
        by_table.append(f"{name}_ = s_{name}[j] * (rates[k, {4 * i}] + rates[k, {4 * i + 1}] * u) "
                        f"+ (rates[k, {4 * i + 2}] + rates[k, {4 * i + 3}] * u)")
    by_rates = ["xj = x[j]"]
    for i, gate in enumerate(spec.gates):
        args = ", ".join(["xj", *(arg[a] for a in gate.args[1:])])
        by_rates.append(f"r0, r1 = _c{c}_gate{i}({args})")
        if gate.form == "alpha_beta":  # as update_factors: decay exp(rate), gain -inf expm1(rate)
            by_rates += ["total = r0 + r1", f"decay, change = exp_expm1(nq{i} * total)",
                         f"{gate.name}_ = s_{gate.name}[j] * decay - r0 / total * change"]
        else:
            by_rates += [f"decay, change = exp_expm1(nq{i} / r1)",
                         f"{gate.name}_ = s_{gate.name}[j] * decay - r0 * change"]
    keep = [f"{name}_ = s_{name}[j]" for name in gate_names]

    def loop(body, indent):
        return [indent[4:] + "for j in range(m):", *(indent + s for s in body)]

    # Three functions, so that numba compiles each loop once (the run loop calls membrane_c
    # with ``advance`` a literal True or False, two compilations) and inlines each gate's
    # rate function at one place only (inlining is most of the compile time).  gates_c adds
    # the conductances at the new gates in the same loop; conductances_c alone starts a run.
    rows = [f"p_{p}" for p in spec.params] + [f"s_{name}" for name in gate_names]
    row_args = ", ".join([f"k_{p}" for p in kinetic] + rows)
    lines = []
    if spec.gates:
        # the conductances at the new gates in the same loop: the gates are not read back
        lines += [
            _membrane_jit(),
            f"def gates_{c}(on_table, x, gx, gex, rates, inv_dv, "
            f"{', '.join(f'nq{i}' for i in range(len(spec.gates)))}, {row_args}):",
            '    """Advance the gates on a run of nodes (1-D rows) over one step; add the conductances to gx, gex."""',
            "    m = x.size",
            "    if on_table:", *loop(by_table + store + conds + sums, " " * 12),
            "    else:", *loop(by_rates + store + conds + sums, " " * 12),
            "", ""]
    if sums:
        lines += [
            _membrane_jit(),
            f"def conductances_{c}(gx, gex, {row_args}):",
            '    """Add the conductances of a run of nodes (1-D rows) to gx, gex."""',
            "    m = gx.size",
            *loop(keep + conds + sums, " " * 8),
            "", ""]
    lines += [
        _membrane_jit(),
        f"def membrane_{c}(v, dt, advance, all_on_table, ptr, nodes, q, use_table, params, states, table, "
        "inv_dv, g, ge):",
        "    for grp in range(ptr.size - 1):",
        "        a, b = ptr[grp], ptr[grp + 1]",
        "        if a == b:",
        "            continue",
        "        on_table = use_table[grp]",
        "        if advance and on_table and not all_on_table:",
        "            for j in range(a, b):",
        "                xj = v[nodes[j]]",
        "                if not (xj >= V_MIN and xj < V_MAX):",
        "                    on_table = False",
        "                    break",
        "        first, m = nodes[a], b - a",
        "        consecutive = nodes[b - 1] - first == m - 1  # (a group's nodes ascend)",
        "        if consecutive:",
        "            x, gx, gex = v[first:first + m], g[first:first + m], ge[first:first + m]",
        "        else:",
        "            x, gx, gex = np.empty(m), np.zeros(m), np.zeros(m)",
        "            for j in range(m):",
        "                x[j] = v[nodes[a + j]]",
        *(f"        p_{p} = params[{i}, a:b]" for i, p in enumerate(spec.params)),
        *(f"        s_{name} = states[{i}, a:b]" for i, name in enumerate(gate_names)),
        *(f"        k_{p} = params[{spec.params.index(p)}, a]" for p in kinetic),
    ]
    if spec.gates:
        lines += ["        if advance:",
                  f"            gates_{c}(on_table, x, gx, gex, table[grp], inv_dv, "
                  f"{', '.join(f'-dt * q[grp, {i}]' for i in range(len(spec.gates)))}, {row_args})"]
    if sums and spec.gates:
        lines += ["        else:", f"            conductances_{c}(gx, gex, {row_args})"]
    elif sums:
        lines += [f"        conductances_{c}(gx, gex, {row_args})"]
    lines += [
        "        if not consecutive:",
        "            for j in range(m):",
        "                g[nodes[a + j]] += gx[j]",
        "                ge[nodes[a + j]] += gex[j]",
    ]
    P = {p: f"p_{p}" for p in spec.params}
    S = {name: f"s_{name}" for name in gate_names}
    names = {**P, **S}
    lines += ["", "", "@numba.njit(cache=True)",
              f"def current_{c}(r, j, x, params, states):",
              *(f"    {P[p]} = params[{i}, j]" for i, p in enumerate(spec.params)),
              *(f"    {S[name]} = states[{i}, j]" for i, name in enumerate(gate_names))]
    for r, (_, cur) in enumerate(spec.currents):
        lines += [f"    if r == {r}:", f"        c{r} = _c{c}_current{r}({', '.join(names[a] for a in cur.args)})",
                  f"        return c{r} * (x - {P[cur.e]})"]
    lines.append("    return 0.0")
    return "\n".join(lines)


#: The generated membrane code's imports (after the run loop's).
_MEMBRANE_IMPORTS = "from hhcable.vecmath import exp_expm1\n\n\n"


#: Arguments of the run loop for each channel class ``c``.
_GROUP_ARGS = ("ptr", "nodes", "q", "use_table", "params", "states", "table")


def source(specs):
    """Source of the kernel module for channel classes with these :class:`Spec` s, in order."""
    group_args = ", ".join(f"{a}_{c}" for c in range(len(specs)) for a in _GROUP_ARGS)
    membrane = "\n".join(f"    membrane_{c}(v, dt, advance, on_table, {', '.join(f'{a}_{c}' for a in _GROUP_ARGS)}, "
                         "inv_dv, g, ge)" for c in range(len(specs))) or "    pass"
    reads = "\n".join(
        f"        elif probe_cls[p] == {c}:\n"
        f"            if probe_kind[p] == PROBE_GATE:\n"
        f"                traces[k, p] = states_{c}[probe_row[p], probe_col[p]]\n"
        f"            else:\n"
        f"                traces[k, p] = current_{c}(probe_row[p], probe_col[p], v[probe_node[p]], params_{c}, "
        f"states_{c})" for c in range(len(specs)))
    part_args = ", ".join([*(f"{a}_{c}" for c in range(len(specs)) for a in _GROUP_ARGS),
                           *(f"cut_{c}" for c in range(len(specs)))])
    n_classes = len(specs)
    use_args = "".join(f", use_{c}" for c in range(n_classes))
    tables = "".join(f", use_table_{c}" for c in range(n_classes))
    use_now = "".join(f", use_now_{c}" for c in range(n_classes))
    usable = "\n".join(f"        tables_usable(v, on_table, ptr_{c}, nodes_{c}, use_table_{c}, use_now_{c})"
                       for c in range(n_classes))
    alloc_now = "\n".join(f"    use_now_{c} = np.empty(ptr_{c}.size - 1, np.bool_)" for c in range(n_classes))
    by_range = "\n".join(
        f"    for grp in range(ptr_{c}.size - 1):\n"
        f"        a, b = ptr_{c}[grp], ptr_{c}[grp + 1]\n"
        f"        span[0] = a + np.searchsorted(nodes_{c}[a:b], lo)\n"
        f"        span[1] = a + np.searchsorted(nodes_{c}[a:b], hi)\n"
        f"        if span[1] > span[0]:\n"
        f"            membrane_{c}(v, dt, True, True, span, nodes_{c}, q_{c}[grp:grp + 1], use_table_{c}[grp:grp + 1], "
        f"params_{c}, states_{c}, table_{c}[grp:grp + 1], inv_dv, g, ge)"
        for c in range(n_classes)) or "    pass"
    by_part = "\n".join(
        f"    for rho in range(cut_{c}.shape[1]):\n"
        f"        for grp in range(cut_{c}.shape[2]):\n"
        f"            membrane_{c}(v, dt, True, True, cut_{c}[w, rho, grp], nodes_{c}, q_{c}[grp:grp + 1], "
        f"use_{c}[grp:grp + 1], params_{c}, states_{c}, table_{c}[grp:grp + 1], inv_dv, g, ge)"
        for c in range(n_classes)) or "    pass"
    keep = "\n".join(f"    keep_{c} = states_{c}.copy()" for c in range(n_classes))
    save = "".join(f"\n    keep_{c}[:] = states_{c}" for c in range(n_classes))
    restore = "".join(f"\n    states_{c}[:] = keep_{c}" for c in range(n_classes))
    keeps = "".join(f", keep_{c}" for c in range(n_classes))
    common_run = ("dt, crank, parent, special, off, axial_diag, c_over_dt, g_scale, v, stim_nodes, stim_amp, "
                  "thresholds, crossings, above, t, rec_every, rec_start, rec_stop, rec_off, frames, probe_kind, "
                  "probe_cls, probe_row, probe_col, probe_node, traces, inv_dv")
    common = common_run + ", solve"
    head = f'''"""Generated by hhcable.kernels for channels {', '.join(s.name for s in specs) or 'none'}: do not edit."""
import math

import numba
import numpy as np

from hhcable.kernels import ALONE_STEPS, PROBE_GATE, PROBE_V, WORK_ROWS, add_stimuli, add_stimuli_in, \\
    eliminate_any, fold_stimuli, record_frames, record_frames_in, solve_cells, solve_middle, substitute_any, \\
    tables_usable, work_rows

V_MIN, V_MAX = {TABLE_V_MIN!r}, {TABLE_V_MAX!r}


@numba.njit(cache=True)
def membrane(v, dt, advance, on_table, inv_dv, g, ge, {group_args}):
{membrane}


@numba.njit(cache=True)
def record(k, which, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args}):
    record_in(k, which, 0, v.size, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args})


@numba.njit(cache=True)
def record_in(k, which, lo, hi, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args}):
    for p in which:
        if p < 0:
            break
        if not lo <= probe_node[p] < hi:
            continue
        if probe_kind[p] == PROBE_V:
            traces[k, p] = v[probe_node[p]]
{reads}


@numba.njit(cache=True)
def save(v, crossings, above, v_keep, crossings_keep, above_keep{keeps}, {group_args}):
    """Keep the state at the start of a chunk that the parts step on their own."""
    v_keep[:] = v
    crossings_keep[:] = crossings
    above_keep[:] = above{save}


@numba.njit(cache=True)
def rewind(dt, inv_dv, v, crossings, above, v_keep, crossings_keep, above_keep, g, ge, d_acc, r_acc{keeps},
           {group_args}):
    """Back to the state kept by save, with its conductances, to step the chunk again in step."""
    v[:] = v_keep
    crossings[:] = crossings_keep
    above[:] = above_keep{restore}
    g[:] = 0.0
    ge[:] = 0.0
    d_acc[:] = 0.0
    r_acc[:] = 0.0
    membrane(v, dt, False, False, inv_dv, g, ge, {group_args})


@numba.njit(cache=True)
def start(first, work, {common_run}, {group_args}):
    """A run's work arrays (rows of ``work``), the channels' first conductances, the first record;
    whether crossings are watched."""
    g, ge, d_acc, r_acc, fac, x = work_rows(work, v.size)
    crossing = not np.isnan(thresholds).all()  # (a bool, not the literal False numba would compile apart)
    membrane(v, dt, False, False, inv_dv, g, ge, {group_args})
    if first == 0:
        record(0, np.arange(probe_kind.size), v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node,
               {group_args})
        record_frames(0, np.arange(rec_every.size), v, rec_every, rec_start, rec_stop, rec_off, frames)
    return g, ge, d_acc, r_acc, fac, x, crossing


@numba.njit(cache=True)
def in_step(k0, k1, {common_run}, cables, rest, g, ge, d_acc, r_acc, fac, x, crossing, {group_args}):
    """Steps k0..k1-1 of every cell at once; (step, node) of a blow-up, else (-1, -1)."""
    stims, probes, recs = np.arange(stim_nodes.size), np.arange(probe_kind.size), np.arange(rec_every.size)
    for k in range(k0, k1):
        add_stimuli(k, stims, stim_nodes, stim_amp, r_acc)
        on_table, bad = solve_cells(k, dt, crank, cables, rest, special, parent, off, axial_diag, c_over_dt, g_scale,
                                    v, g, ge, d_acc, r_acc, fac, x, thresholds, crossings, above, t, crossing)
        if bad >= 0:
            return k, bad
        membrane(v, dt, True, on_table, inv_dv, g, ge, {group_args})
        record(k + 1, probes, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args})
        record_frames(k + 1, recs, v, rec_every, rec_start, rec_stop, rec_off, frames)
    return -1, -1


@numba.njit(cache=True)
def run(first, last, work, {common_run}, part_cables, part_rest, part_blocks, part_stims, part_probes, part_recs,
        {group_args}):
    """Steps first..last-1 on one thread (a run in one call, or in chunks: the state is all in the arrays;
    ``work``: WORK_ROWS rows of at least n nodes, kernels.Staggered's).

    ``part_cables``, ``part_rest``, ``part_blocks``: the cells as kernels.blocks_of sorts them
    (cables in two lanes); ``part_stims``, ``part_probes``, ``part_recs`` every stimulus, probe
    and recording, as for one part of run_parallel (used by run_blocked)."""
    g, ge, d_acc, r_acc, fac, x, crossing = start(first, work, {common_run}, {group_args})
    cables, rest = part_cables[0, 0:part_cables.shape[1]], part_rest[0, 0:part_rest.shape[1]]  # (as steps_alone's)
    return in_step(first, last, {common_run}, cables, rest, g, ge, d_acc, r_acc, fac, x, crossing, {group_args})


@numba.njit(cache=True)
def run_blocked(first, last, work, {common_run}, part_cables, part_rest, part_blocks, part_stims, part_probes,
                part_recs, {group_args}):
    """As run, for several blocks of cells: ALONE_STEPS steps a block at a time (steps_alone);
    if one stops (a voltage off the rate tables, or not finite) the chunk is stepped again
    with every cell in step."""
    g, ge, d_acc, r_acc, fac, x, crossing = start(first, work, {common_run}, {group_args})
    cables, rest = part_cables[0, 0:part_cables.shape[1]], part_rest[0, 0:part_rest.shape[1]]
    v_keep, crossings_keep, above_keep = v.copy(), crossings.copy(), above.copy()
{keep}
    k0 = first
    while k0 < last:
        k1 = min(last, k0 + ALONE_STEPS)
        save(v, crossings, above, v_keep, crossings_keep, above_keep{keeps}, {group_args})
        if steps_alone(0, k0, k1, {common_run}, part_cables, part_rest, part_blocks, part_stims, part_probes,
                       part_recs, g, ge, d_acc, r_acc, fac, x, crossing, {group_args}) < k1:
            rewind(dt, inv_dv, v, crossings, above, v_keep, crossings_keep, above_keep, g, ge, d_acc, r_acc{keeps},
                   {group_args})
            step, bad = in_step(k0, k1, {common_run}, cables, rest, g, ge, d_acc, r_acc, fac, x, crossing,
                                {group_args})
            if step >= 0:
                return step, bad
        k0 = k1
    return -1, -1


@numba.njit(cache=True)
def membrane_part(w, v, dt, inv_dv, g, ge, {part_args}{use_args}):
    """The channels of part w advanced, the groups advancing by their tables where use_c says."""
{by_part}


@numba.njit(cache=True)
def membrane_range(lo, hi, v, dt, inv_dv, g, ge, {group_args}):
    """The channels of nodes lo..hi-1 advanced by their rate tables (every voltage is on them)."""
    span = np.empty(2, np.int64)
{by_range}


@numba.njit(cache=True)
def steps_alone(w, k0, k1, {common_run}, part_cables, part_rest, part_blocks, part_stims, part_probes, part_recs, g,
                ge, d_acc, r_acc, fac, x, crossing, {group_args}):
    """Steps k0..k1-1 of part w on its own (whole cells); the step where it stopped, k1 if none.

    Each block of its cells (kernels.blocks_of) takes all the steps before the next starts,
    its arrays in cache.  It stops (before the channels) at the first step where one of its
    voltages leaves the rate tables or stops being finite: there every part must decide
    together (the chunk is stepped again).
    """
    stims, probes, recs = part_stims[w], part_probes[w], part_recs[w]
    for b in range(part_blocks.shape[1]):
        lo, hi, c0, c1, r0, r1 = part_blocks[w, b]
        if hi <= lo:
            break
        cables, rest = part_cables[w, c0:c1], part_rest[w, r0:r1]
        for k in range(k0, k1):
            add_stimuli_in(k, stims, lo, hi, stim_nodes, stim_amp, r_acc)
            on_table, bad = solve_cells(k, dt, crank, cables, rest, special, parent, off, axial_diag, c_over_dt,
                                        g_scale, v, g, ge, d_acc, r_acc, fac, x, thresholds, crossings, above, t,
                                        crossing)
            if bad >= 0 or not on_table:
                return k
            membrane_range(lo, hi, v, dt, inv_dv, g, ge, {group_args})
            record_in(k + 1, probes, lo, hi, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node,
                      {group_args})
            record_frames_in(k + 1, recs, lo, hi, v, rec_every, rec_start, rec_stop, rec_off, frames)
    return k1


@numba.njit(cache=True, parallel=True)
def steps_together(k0, k1, {common}, pivot, path, owner, quad, g, ge, d_acc, r_acc, fac, x, spk, crossing, part_d,
                   part_r, part_out, part_on, part_bad, {part_args}{use_now}):
    """Steps k0..k1-1 with every part in step: parts eliminated in parallel, the pivot (or a
    cable's separators, quad) solved, parts substituted in parallel, the tables decided for
    all, then each part's channels and its next elimination in parallel.  Returns (step,
    node) of a blow-up, else (-1, -1)."""
    n_parts = solve.shape[0]
    probes, recs = np.arange(probe_kind.size), np.arange(rec_every.size)
    stims = np.arange(stim_nodes.size)
    for k in range(k0, k1):
        if k == k0:
            add_stimuli(k, stims, stim_nodes, stim_amp, r_acc)
            fold_stimuli(special, quad, r_acc.size, g_scale, r_acc, ge)
            for w in numba.prange(n_parts):
                eliminate_any(w, solve, special, pivot, path, owner, quad, parent, off, axial_diag, c_over_dt, g_scale,
                              v, g, ge, d_acc, r_acc, fac, x, spk, part_d, part_r, part_out)
        solve_middle(pivot, quad, part_d, part_r, part_out, g, ge, g_scale, c_over_dt, axial_diag, d_acc, r_acc, v, x)
        for w in numba.prange(n_parts):
            part_on[w], part_bad[w] = substitute_any(w, k, dt, crank, solve, special, pivot, path, owner, quad,
                                                     parent, fac, x, spk, part_out, v, thresholds, crossings, above,
                                                     t, crossing)
        on_table = True
        bad = -1
        for w in range(n_parts):
            on_table &= part_on[w]
            if part_bad[w] >= 0 and (bad < 0 or part_bad[w] < bad):
                bad = part_bad[w]
        if bad >= 0:
            return k, bad
{usable}
        more = k + 1 < k1
        if more:
            add_stimuli(k + 1, stims, stim_nodes, stim_amp, r_acc)
            fold_stimuli(special, quad, r_acc.size, g_scale, r_acc, ge)
        for w in numba.prange(n_parts):
            membrane_part(w, v, dt, inv_dv, g, ge, {part_args}{use_now})
            if more:
                eliminate_any(w, solve, special, pivot, path, owner, quad, parent, off, axial_diag, c_over_dt,
                              g_scale, v, g, ge, d_acc, r_acc, fac, x, spk, part_d, part_r, part_out)
        record(k + 1, probes, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args})
        record_frames(k + 1, recs, v, rec_every, rec_start, rec_stop, rec_off, frames)
    return -1, -1


@numba.njit(cache=True, parallel=True)
def run_parallel(first, last, work, {common}, pivot, path, owner, quad, part_cables, part_rest, part_blocks,
                 part_stims, part_probes, part_recs, {part_args}):
    """As run, the forest cut into parts (kernels.plan_parts), one per thread.

    Whole cells (no pivot) step ALONE_STEPS steps at a time, each part on its own with no
    wait between steps; if a part stops (a voltage off the rate tables, or not finite), the
    chunk is stepped again from its start with the parts in step (steps_together), which a
    cell split at a pivot always uses, as does one cable cut in four lanes (quad, the
    separators; -1 otherwise).
    """
    n = v.size
    n_parts = solve.shape[0]
    if quad[1] >= 0 and work.shape[0] <= WORK_ROWS:
        raise ValueError("one cable in four lanes takes a work row for the lanes' fill")
    g, ge, d_acc, r_acc, fac, x = work_rows(work, n)
    part_d, part_r = np.zeros(n_parts), np.zeros(n_parts)
    part_on, part_bad = np.ones(n_parts, np.bool_), np.full(n_parts, -1, np.int64)
    part_stop = np.zeros(n_parts, np.int64)
{alloc_now}
    v_keep, crossings_keep, above_keep = v.copy(), crossings.copy(), above.copy()
{keep}
    crossing = not np.isnan(thresholds).all()  # (a bool, not the literal False numba would compile apart)
    membrane(v, dt, False, False, inv_dv, g, ge, {group_args})
    if first == 0:
        record(0, np.arange(probe_kind.size), v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node,
               {group_args})
        record_frames(0, np.arange(rec_every.size), v, rec_every, rec_start, rec_stop, rec_off, frames)
    k0 = first
    spk = work[6, :n] if quad[1] >= 0 else work[0, :0]
    part_out = np.zeros((2, 8))  # each thread's carries from eliminate_quarter, and its rows with fill
    while k0 < last:
        k1 = min(last, k0 + ALONE_STEPS)
        if pivot < 0 and quad[1] < 0:
            save(v, crossings, above, v_keep, crossings_keep, above_keep{keeps}, {group_args})
            for w in numba.prange(n_parts):
                part_stop[w] = steps_alone(w, k0, k1, {common_run}, part_cables, part_rest, part_blocks, part_stims,
                                           part_probes, part_recs, g, ge, d_acc, r_acc, fac, x, crossing,
                                           {group_args})
            if part_stop.min() >= k1:
                k0 = k1
                continue
            rewind(dt, inv_dv, v, crossings, above, v_keep, crossings_keep, above_keep, g, ge, d_acc, r_acc{keeps},
                   {group_args})
        step, bad = steps_together(k0, k1, {common}, pivot, path, owner, quad, g, ge, d_acc, r_acc, fac, x, spk,
                                   crossing, part_d, part_r, part_out, part_on, part_bad, {part_args}{use_now})
        if step >= 0:
            return step, bad
        k0 = k1
    return -1, -1
'''
    body = "\n\n\n".join(_membrane_source(c, spec) for c, spec in enumerate(specs))
    return head + ("\n\n" + _MEMBRANE_IMPORTS + body + "\n" if body else "")


# -- fingerprints: what the cached machine code depends on ------------------------------------
def _fingerprint(obj, digest, seen):
    """Feed into ``digest`` everything that determines what compiling ``obj`` gives."""
    if isinstance(obj, types.FunctionType):
        if id(obj) in seen:
            digest.update(b"<seen>")
            return
        seen.add(id(obj))
        _fingerprint(obj.__code__, digest, seen)
        for name in obj.__code__.co_names:
            if name in obj.__globals__:
                digest.update(name.encode())
                _fingerprint(obj.__globals__[name], digest, seen)
        for cell in obj.__closure__ or ():
            _fingerprint(cell.cell_contents, digest, seen)
    elif isinstance(obj, types.CodeType):
        digest.update(obj.co_code)
        digest.update(repr(obj.co_names).encode())
        for const in obj.co_consts:
            _fingerprint(const, digest, seen)
    elif isinstance(obj, types.ModuleType):
        digest.update(f"module {obj.__name__} {getattr(obj, '__version__', '')}".encode())
    elif isinstance(obj, np.ndarray):
        digest.update(obj.tobytes())
    else:
        digest.update(f"{type(obj).__name__}:{obj!r}".encode())


def _functions(spec):
    """The channel's functions the kernel calls, by their name in the generated module."""
    return ([(f"gate{i}", gate.name, gate.func) for i, gate in enumerate(spec.gates)]
            + [(f"current{r}", name, cur.g) for r, (name, cur) in enumerate(spec.currents)])


def _vtrap_scalar(x, y):
    """:func:`hhcable.channels.vtrap` for one number, without a branch (both sides computed)."""
    u = x / y
    small = abs(u) < _VTRAP_SERIES
    series = 1.0 - u / 2
    safe = 1.0 if small else u
    full = safe / vecmath.expm1(safe)
    return y * (series if small else full)


#: Array helpers of the channel library -> their scalar form, compiled in their place; and
#: numpy's exp, expm1, cbrt, where -> forms loops can vectorise (:mod:`hhcable.vecmath`).
SCALAR_FORMS = {vtrap: _vtrap_scalar}
if AVAILABLE:
    SCALAR_FORMS |= {np.exp: vecmath.exp, np.expm1: vecmath.expm1, np.cbrt: vecmath.cbrt, np.where: vecmath.where}


@functools.cache
def _scalar_numpy():
    """numpy as compiled channel functions see it: a copy with its SCALAR_FORMS in place."""
    copy = types.ModuleType(np.__name__)
    copy.__dict__.update({name: SCALAR_FORMS.get(value, value) if _hashable(value) else value
                          for name, value in vars(np).items()})
    return copy


def _hashable(value):
    """Whether ``value`` can be looked up in a dict (numpy's module holds some that cannot)."""
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _jit_tree(func, done):
    """``func`` compiled by numba for scalars, with the plain Python functions it calls compiled too.

    Each is inlined where it is called (numba's ``inline="always"``), so the membrane loop is
    one body LLVM can vectorise, compiled with the loop's options; ``np.exp``, ``np.expm1``,
    ``np.where`` and the library's ``vtrap`` become their :data:`SCALAR_FORMS`.
    """
    if func in done:
        return done[func]
    names = dict(func.__globals__)
    # numba's on-disk cache re-imports the module named here when it loads the kernel in
    # another process; a user's file may be loaded under any name, or none, so the compiled
    # copy names this module (what it compiles is fingerprinted, so nothing is lost).
    names["__name__"] = __name__
    for name in func.__code__.co_names:
        value = names.get(name)
        if value is np:
            names[name] = _scalar_numpy()
        elif _hashable(value) and value in SCALAR_FORMS and not isinstance(value, types.FunctionType):
            names[name] = SCALAR_FORMS[value]  # exp, expm1, where imported by name
        elif isinstance(value, types.FunctionType):
            names[name] = _jit_tree(SCALAR_FORMS.get(value, value), done)
    clone = types.FunctionType(func.__code__, names, func.__name__, func.__defaults__, func.__closure__)
    done[func] = numba.njit(clone, inline="always", **vecmath.JIT_OPTIONS)
    return done[func]


def cache_dir():
    """Folder of the generated kernels: ``$HHCABLE_CACHE_DIR``, else the user's cache folder."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hhcable" / "kernels"


_MODULES = {}


def module_for(classes):
    """The compiled kernel module for these channel classes (in this order), made once.

    Raises
    ------
    InputError
        Naming the channel and the function numba cannot compile.
    """
    specs = [cls.spec() for cls in classes]
    text = source(specs) + extracellular_source(specs)
    digest = hashlib.sha256(text.encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(vecmath.__file__).read_bytes())
    digest.update(numba.__version__.encode())
    seen = set()
    for spec in specs:
        for name, _, func in _functions(spec):
            digest.update(name.encode())
            _fingerprint(func, digest, seen)
    key = digest.hexdigest()[:24]
    if key in _MODULES:
        return _MODULES[key]
    done, compiled = {}, {}
    for c, (cls, spec) in enumerate(zip(classes, specs)):
        for name, label, func in _functions(spec):
            jitted = _jit_tree(func, done)
            try:
                jitted.compile((numba.float64,) * func.__code__.co_argcount)
            except Exception as err:  # numba's errors are long: keep the first line
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise InputError(f"numba cannot compile {func.__name__!r}: {first}; write it with numpy "
                                 "functions of scalars (np.exp, np.where), or use backend='numpy'",
                                 key=f"{cls.name}.{label}") from None
            compiled[f"_c{c}_{name}"] = jitted
    path = _write_source(key, text)
    spec = importlib.util.spec_from_file_location(f"hhcable_kernel_{key}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    for name, jitted in compiled.items():
        setattr(module, name, jitted)
    _MODULES[key] = module
    return module


def _write_source(key, text):
    """Write the generated module under its fingerprint (atomically); its path."""
    for folder in (cache_dir(), Path(tempfile.gettempdir()) / f"hhcable-kernels-{os.getuid()}"):
        path = folder / f"k_{key}.py"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != text:
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".k_{key}.", suffix=".tmp")
                with os.fdopen(fd, "w") as fh:
                    fh.write(text)
                os.replace(tmp, path)
            return path
        except OSError:
            continue
    raise InputError("no writable folder for the compiled kernel; set HHCABLE_CACHE_DIR or use backend='numpy'",
                     key="backend")


# -- extracellular layers (NEURON's `extracellular`) ----------------------------------------------
#: Probe kinds of the extracellular features (read by ``run_extracellular``, skipped by ``record``).
PROBE_I_MEMBRANE, PROBE_VEXT = 3, 4


@_jit_ieee
def solve_step_layer(k, dt, crank, parent, g_in, axial_diag, g_out, layer_diag, layer, gx, cx_over_dt, c_over_dt,
                     g_scale, v, vx, g, ge, acc, w, stim_nodes, stim_amp, e_now, e_old, imem, i_out, thresholds,
                     crossings, above, t, crossing):
    """One implicit step of a forest whose nodes may carry an extracellular layer.

    The unknowns of node ``i`` are ``vi`` (inside) and ``vx`` (the layer), with the blocks of
    :class:`hhcable.solver.LayerSolver` (``vx = e_now`` where there is no layer): a tree of
    symmetric 2 x 2 blocks coupled to the parent by ``diag(-g_in, -g_out)``.  Hines
    elimination with blocks: from the leaves, each node's block is inverted and its
    ``G A^-1 G`` and ``G A^-1 r`` go to its parent; then substitution from the roots.  A node
    without the layer is a 1 x 1 block (``vx`` known, and nothing couples to it).
    Updates ``v`` (membrane, mV) and ``vx`` in place (Crank–Nicolson: solved over dt/2 and
    extrapolated), fills the membrane current ``imem`` and the current into the medium
    ``i_out`` (nA), zeroes ``g``, ``ge`` and ``acc``, and copies ``e_now`` into ``e_old``.
    Returns ``(on_table, bad)`` as :func:`substitute_part`.

    ``acc`` (n, 5): what children add to a node's block and right-hand side; ``w`` (n, 9):
    each node's inverse block, eliminated right-hand side, solution, and membrane load and
    right-hand side.
    """
    n = v.size
    for s in range(stim_nodes.size):
        acc[stim_nodes[s], 3] += stim_amp[k, s]
    for i in range(n - 1, -1, -1):
        dm = g[i] * g_scale[i] + c_over_dt[i]
        rm = ge[i] * g_scale[i] + v[i] * c_over_dt[i]
        g[i], ge[i] = 0.0, 0.0
        e = e_now[i]
        a = dm + axial_diag[i] + acc[i, 0]
        r1 = rm + acc[i, 3]
        w[i, 7], w[i, 8] = dm, rm
        p = parent[i]
        gi = g_in[i]
        if not layer[i]:  # vx = e is known: a 1 x 1 block (nothing couples to this node's layer)
            i11 = 1.0 / a
            y1 = (r1 + dm * e) * i11
            acc[i, 0], acc[i, 3] = 0.0, 0.0
            w[i, 0], w[i, 3] = i11, y1
            if p >= 0:
                acc[p, 0] -= gi * gi * i11
                acc[p, 3] += gi * y1
            continue
        b = -dm + acc[i, 1]
        c = dm + layer_diag[i] + gx[i] + cx_over_dt[i] + acc[i, 2]
        r2 = -rm + gx[i] * e + cx_over_dt[i] * (e - e_old[i] + vx[i]) + acc[i, 4]
        for q in range(5):
            acc[i, q] = 0.0
        inv_det = 1.0 / (a * c - b * b)
        i11, i12, i22 = c * inv_det, -b * inv_det, a * inv_det
        y1 = i11 * r1 + i12 * r2
        y2 = i12 * r1 + i22 * r2
        w[i, 0], w[i, 1], w[i, 2], w[i, 3], w[i, 4] = i11, i12, i22, y1, y2
        if p >= 0:
            go = g_out[i]
            acc[p, 0] -= gi * gi * i11
            acc[p, 1] -= gi * go * i12
            acc[p, 2] -= go * go * i22
            acc[p, 3] += gi * y1
            acc[p, 4] += go * y2
    on_table = True
    bad = -1
    for i in range(n):
        p = parent[i]
        e = e_now[i]
        if layer[i]:
            x1, x2 = w[i, 3], w[i, 4]
            if p >= 0:
                u1, u2 = g_in[i] * w[p, 5], g_out[i] * w[p, 6]
                x1 += w[i, 0] * u1 + w[i, 1] * u2
                x2 += w[i, 1] * u1 + w[i, 2] * u2
        else:
            x1, x2 = w[i, 3], e
            if p >= 0:
                x1 += w[i, 0] * g_in[i] * w[p, 5]
        w[i, 5], w[i, 6] = x1, x2
        vs = x1 - x2
        imem[i] = w[i, 7] * vs - w[i, 8]
        if layer[i]:
            i_out[i] = gx[i] * (x2 - e) + cx_over_dt[i] * (x2 - e - vx[i] + e_old[i])
            vx[i] = x2 * 2.0 - vx[i] if crank else x2
        else:
            i_out[i] = imem[i]
            vx[i] = e
        e_old[i] = e
        vn = vs * 2.0 - v[i] if crank else vs
        if crossing:
            now = vn >= thresholds[i]
            if now and not above[i] and math.isnan(crossings[i]):
                crossings[i] = t[k] + (thresholds[i] - v[i]) / (vn - v[i]) * dt
            above[i] = now
        on_table &= vn >= TABLE_V_MIN and vn < TABLE_V_MAX
        if bad < 0 and not math.isfinite(vn):
            bad = i
        v[i] = vn
    return on_table, bad


@_jit
def applied_potential(k, src_node, src_w, src_col, src_amp, e_now):
    """The applied potential (mV) of step ``k`` at every node, into ``e_now``."""
    e_now[:] = 0.0
    for s in range(src_node.size):
        e_now[src_node[s]] += src_w[s] * src_amp[k, src_col[s]]


@_jit
def record_extracellular(k, imem, vx, i_out, traces, probe_kind, probe_node, out_node, out_w, out_col, out_traces):
    """Record membrane-current and layer probes and the extracellular recordings at sample ``k``."""
    for p in range(probe_kind.size):
        if probe_kind[p] == PROBE_I_MEMBRANE:
            traces[k, p] = imem[probe_node[p]]
        elif probe_kind[p] == PROBE_VEXT:
            traces[k, p] = vx[probe_node[p]]
    for c in range(out_traces.shape[1]):
        out_traces[k, c] = 0.0
    for s in range(out_node.size):
        out_traces[k, out_col[s]] += out_w[s] * i_out[out_node[s]]


def extracellular_source(specs):
    """Source of ``run_extracellular``, the run loop with extracellular layers, appended to
    the kernel module of :func:`source` (it calls that module's ``membrane`` and ``record``)."""
    group_args = ", ".join(f"{a}_{c}" for c in range(len(specs)) for a in _GROUP_ARGS)
    return f'''

from hhcable.kernels import applied_potential, record_extracellular, solve_step_layer


@numba.njit(cache=True)
def run_extracellular(first, last, dt, crank, parent, special, off, axial_diag, c_over_dt, g_scale, v, stim_nodes, stim_amp,
                      thresholds, crossings, above, t, rec_every, rec_start, rec_stop, rec_off, frames, probe_kind,
                      probe_cls, probe_row, probe_col, probe_node, traces, inv_dv, g_out, layer_diag, layer, gx,
                      cx_over_dt, vx, e_old, imem, i_out, src_node, src_w, src_col, src_amp, out_node, out_w, out_col,
                      out_traces, {group_args}):
    """Steps first..last-1 with extracellular layers (as ``run``; the layer's state is in the arrays)."""
    n = v.size
    g, ge = np.zeros(n), np.zeros(n)
    acc, w = np.zeros((n, 5)), np.zeros((n, 9))
    e_now = np.zeros(n)
    g_in = -off
    probes, recs = np.arange(probe_kind.size), np.arange(rec_every.size)
    crossing = not np.isnan(thresholds).all()  # (a bool, not the literal False numba would compile apart)
    membrane(v, dt, False, False, inv_dv, g, ge, {group_args})
    if first == 0:
        record(0, probes, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args})
        record_extracellular(0, imem, vx, i_out, traces, probe_kind, probe_node, out_node, out_w, out_col,
                             out_traces)
        record_frames(0, recs, v, rec_every, rec_start, rec_stop, rec_off, frames)
    for k in range(first, last):
        applied_potential(k, src_node, src_w, src_col, src_amp, e_now)
        on_table, bad = solve_step_layer(k, dt, crank, parent, g_in, axial_diag, g_out, layer_diag, layer, gx,
                                         cx_over_dt, c_over_dt, g_scale, v, vx, g, ge, acc, w, stim_nodes, stim_amp,
                                         e_now, e_old, imem, i_out, thresholds, crossings, above, t, crossing)
        if bad >= 0:
            return k, bad
        membrane(v, dt, True, on_table, inv_dv, g, ge, {group_args})
        record(k + 1, probes, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args})
        record_extracellular(k + 1, imem, vx, i_out, traces, probe_kind, probe_node, out_node, out_w, out_col,
                             out_traces)
        record_frames(k + 1, recs, v, rec_every, rec_start, rec_stop, rec_off, frames)
    return -1, -1
'''

"""Implicit solve of the voltage equation on a tree of compartments.

Each time step solves ``(D + L) v = b`` where ``L`` is the constant axial-conductance
Laplacian of the tree (µS) and ``D`` a diagonal that changes each step (capacitance over
the step plus the channels' conductance, µS).

Nodes are in Hines (depth-first) order, so removing the *junctions* (nodes with two or more
children) leaves unbranched chains of consecutive nodes.  The fast solve treats all chains at
once as one symmetric positive-definite tridiagonal system (a single LAPACK ``ptsv`` call with
three right-hand sides: the load, and unit loads at each chain's two ends), which leaves a
system on the junctions alone (the Schur complement).  That system is itself a tree in
depth-first order, and is solved the same way, level after level, or by one of the ways that
suit a small or bushy tree better: a dense LU (LAPACK, for a few dozen junctions) or a *rake*,
elimination from the leaves by height with every node of one height at once.  Which way each
level goes is fixed when the solver is built, by an estimate of what each costs.

No Python loop runs over nodes, sections or junctions: a step makes a fixed number of numpy
and LAPACK calls per level (per height for a rake), and the number of levels grows with the
depth of branching, not with the number of sections.  An unbranched cable (or a batch of
them) costs one ``ptsv`` call.

:meth:`TreeSolver.solve_reference` solves the same system with scipy.sparse; the two agree
to round-off (tested to 1e-10).
"""

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import lapack

from .errors import HHCableError

# What each way of solving a level costs per step (µs, measured on this code with numpy 2 on
# a 2-core machine), to choose the cheapest when the solver is built.  Only the ratios matter.
_CHAIN_US = 4.0               # plus _PER_NODE_US per node
_SPLIT_US = 13.0              # plus _PER_NODE_US per node, plus the junctions' system
_PER_NODE_US = 0.04
_RAKE_US_PER_HEIGHT = 6.0     # one pass up and one down per height
_DENSE_US = 5.0               # plus n³ / _DENSE_CUBE_PER_US (LAPACK's LU)
_DENSE_CUBE_PER_US = 15000.0


def _children(parent):
    n = len(parent)
    has_parent = parent >= 0
    return np.bincount(parent[has_parent], minlength=n)


def _heights(parent):
    """Height of every node above its deepest leaf (0 for leaves), by a pass per height."""
    n = len(parent)
    height = np.zeros(n, dtype=int)
    has_parent = np.flatnonzero(parent >= 0)
    while True:
        new = height.copy()
        np.maximum.at(new, parent[has_parent], height[has_parent] + 1)
        if np.array_equal(new, height):
            return height
        height = new


def _plan(parent):
    """The cheapest way to solve a tree (or forest) with this parent array, and its cost (µs)."""
    n = len(parent)
    if not np.any(_children(parent) >= 2):
        return _Chains(parent), _CHAIN_US + _PER_NODE_US * n
    options = [(_DENSE_US + n**3 / _DENSE_CUBE_PER_US, _Dense),
               (_RAKE_US_PER_HEIGHT * (int(_heights(parent).max()) + 1), _Rake)]
    if min(options)[0] > _SPLIT_US:  # else a split cannot win
        split = _Split(parent)
        options.append((split.cost, lambda _: split))
    cost, make = min(options, key=lambda option: option[0])
    return make(parent), cost


def _tridiagonal(diag, band, rhs):
    """Solve a symmetric positive-definite tridiagonal system in place in ``rhs`` (``diag`` and
    ``band`` are overwritten).  With non-negative loads the matrix is diagonally dominant, so
    LAPACK's solve without pivoting applies."""
    _, _, x, info = lapack.dptsv(diag, band, rhs, overwrite_d=1, overwrite_e=1, overwrite_b=1)
    if info != 0:
        raise HHCableError(f"tridiagonal solve failed (LAPACK dptsv info {info}): a negative "
                           "membrane load made the matrix indefinite")
    if not np.shares_memory(x, rhs):
        np.copyto(rhs, x.reshape(rhs.shape))


class _Chains:
    """A forest with no junctions: one tridiagonal solve."""

    def __init__(self, parent):
        n = len(parent)
        self.band_sign = np.where(parent[1:] == np.arange(n - 1), -1.0, 0.0)  # -g where joined to node - 1
        self._band = np.zeros(max(n - 1, 1))  # LAPACK wants one even for n = 1
        self._diag = np.empty(n)

    def solve(self, diag, g, b, out):
        """``diag``: full diagonal; ``g``: coupling of each node to its parent (matrix entry -g)."""
        np.copyto(self._diag, diag)
        np.multiply(g[1:], self.band_sign, out=self._band[:len(g) - 1])
        np.copyto(out, b)
        _tridiagonal(self._diag, self._band, out)


class _Split:
    """Chains solved at once (three right-hand sides), then the junctions' own tree system."""

    def __init__(self, parent):
        n = len(parent)
        idx = np.arange(n)
        has_parent = parent >= 0
        children = _children(parent)
        junction = children >= 2
        J = idx[junction]
        nj = len(J)
        self.junctions, self.nj = J, nj
        jpos = np.full(n, -1)
        jpos[J] = np.arange(nj)
        # Chain links: consecutive nodes, parent and child, neither a junction; the band of
        # the chains' matrix is -g there and 0 elsewhere.
        link = has_parent[1:] & (parent[1:] == idx[:-1]) & ~junction[:-1] & ~junction[1:]
        self.band_sign = np.where(link, -1.0, 0.0)
        self.chain_mask = (~junction).astype(float)
        first = ~junction & (~has_parent | junction[np.maximum(parent, 0)])
        # A chain's last node has no child or a junction as its only child.
        nxt_is_junction = np.zeros(n, bool)
        nxt_is_junction[:-1] = junction[1:] & (parent[1:] == idx[:-1])
        last = ~junction & ((children == 0) | nxt_is_junction)
        f, l = np.flatnonzero(first), np.flatnonzero(last)
        has_top = has_parent[f]
        has_bottom = nxt_is_junction[l]
        top = np.where(has_top, jpos[np.maximum(parent[f], 0)], nj)
        bottom = np.where(has_bottom, jpos[np.minimum(l + 1, n - 1)], nj)

        # End values of the chains' solutions, gathered in one take from the (n, 3) solution
        # [y u w] (column-major: u at n + i, w at 2n + i), times couplings from g (with a 1
        # appended at index n), summed by junction in one bincount: rows of the junction
        # system's right-hand side (targets 0..nj-1), its diagonal (nj..2nj-1), and the
        # couplings of junctions joined by a chain (2nj..).
        ft, lb = f[has_top], l[has_bottom]
        below = lb + 1
        both = has_top & has_bottom
        fl, ll = f[both], l[both]
        one = n
        self.ends = np.concatenate([ft, n + ft, lb, 2 * n + lb, n + ll])
        self.g_a = np.concatenate([ft, ft, below, below, fl])
        self.g_b = np.concatenate([np.full(len(ft), one), ft, np.full(len(lb), one), below, ll + 1])
        self.sign = np.concatenate([np.ones(len(ft)), -np.ones(len(ft)), np.ones(len(lb)), -np.ones(len(lb)),
                                    np.ones(len(fl))])
        link_j = bottom[both]
        self.target = np.concatenate([top[has_top], nj + top[has_top], bottom[has_bottom],
                                      nj + bottom[has_bottom], 2 * nj + link_j])
        self.n_sums = 2 * nj + nj
        # The junction system is itself a tree: each junction couples to its parent junction
        # either through a chain (top and bottom both junctions) or directly (parent node).
        j_parent = np.full(nj, -1)
        j_parent[link_j] = top[both]
        jj_child = np.flatnonzero(junction & has_parent & junction[np.maximum(parent, 0)])
        j_parent[jpos[jj_child]] = jpos[parent[jj_child]]
        self.direct_j, self.direct_node = jpos[jj_child], jj_child
        self.link_j = link_j
        self.sub, sub_cost = _plan(j_parent)
        self.cost = _SPLIT_US + _PER_NODE_US * n + sub_cost

        # Back-substitution: each chain node adds u g_top V_top + w g_bottom V_bottom, its
        # chain's coefficients picked by chain number.
        chain = np.cumsum(first) - 1
        self.node_chain = np.where(junction, len(f), chain)  # junction rows: a zero coefficient
        self.chain_top = np.where(has_top, top, nj)
        self.chain_bottom = np.where(has_bottom, bottom, nj)
        self.chain_g_top = np.where(has_top, f, one)
        self.chain_g_bottom = np.where(has_bottom, np.minimum(l + 1, n - 1), one)

        self._diag = np.empty(n)
        self._band = np.zeros(max(n - 1, 1))  # LAPACK wants one even for n = 1
        self._rhs = np.zeros((n, 3), order="F")
        self._unit = np.zeros((n, 2), order="F")
        self._unit[f, 0] = 1.0
        self._unit[l, 1] = 1.0
        self._g = np.ones(n + 1)
        self._vj = np.zeros(nj + 1)
        self._jg = np.zeros(nj)
        self._coef = np.zeros((n, 3), order="F")
        self._coef[:, 0] = 1.0
        self._ct = np.zeros(len(f) + 1)
        self._cb = np.zeros(len(f) + 1)

    def solve(self, diag, g, b, out):
        nj, J = self.nj, self.junctions
        n = len(diag)
        # Chains, with the junction rows made trivial (1 on the diagonal, 0 on the right).
        d = self._diag
        np.copyto(d, diag)
        d[J] = 1.0
        np.multiply(g[1:], self.band_sign, out=self._band[:n - 1])
        x = self._rhs
        np.multiply(b, self.chain_mask, out=x[:, 0])
        x[:, 1:] = self._unit
        _tridiagonal(d, self._band, x)

        # The junction system from the chains' end values.
        gg = self._g
        np.copyto(gg[:n], g)
        terms = x.ravel(order="F").take(self.ends)
        terms *= gg[self.g_a]
        terms *= gg[self.g_b]
        terms *= self.sign
        sums = np.bincount(self.target, terms, self.n_sums)
        bj = b[J] + sums[:nj]
        dj = diag[J] + sums[nj:2 * nj]
        jg = self._jg
        jg[self.link_j] = sums[2 * nj:][self.link_j]
        jg[self.direct_j] = g[self.direct_node]
        vj = self._vj
        self.sub.solve(dj, jg, bj, vj[:nj])

        # out = y + u g_top V_top + w g_bottom V_bottom on chains; the junctions' voltages.
        ct, cb, coef = self._ct, self._cb, self._coef
        np.multiply(vj[self.chain_top], gg[self.chain_g_top], out=ct[:-1])
        np.multiply(vj[self.chain_bottom], gg[self.chain_g_bottom], out=cb[:-1])
        ct.take(self.node_chain, out=coef[:, 1])
        cb.take(self.node_chain, out=coef[:, 2])
        np.einsum("ij,ij->i", x, coef, out=out)
        out[J] = vj[:nj]


class _Dense:
    """A small system solved as a dense matrix (LAPACK's LU), for the last few junctions."""

    def __init__(self, parent):
        n = len(parent)
        child = np.flatnonzero(parent >= 0)
        self.off = np.concatenate([child * n + parent[child], parent[child] * n + child])
        self.coupling = np.concatenate([child, child])
        self.diag = np.arange(n) * (n + 1)
        self._a = np.zeros((n, n))

    def solve(self, diag, g, b, out):
        flat = self._a.reshape(-1)
        flat[self.off] = g[self.coupling]
        np.negative(flat, out=flat)
        flat[self.diag] = diag
        out[:] = np.linalg.solve(self._a, b)


class _Rake:
    """Elimination from the leaves, every node of one height at once (the nodes renumbered by
    height, so each height is a slice), then substitution from the roots the same way.

    Each node's row is ``D x - g x_parent - sum(g_c x_c) = b``; eliminating a node gives its
    parent ``-g r`` on the diagonal and ``g y`` on the right, with ``r = g / D`` and
    ``y = b / D`` (after its own children's), and then ``x = y + r x_parent``.
    """

    def __init__(self, parent):
        n = len(parent)
        height = _heights(parent)
        order = np.argsort(height, kind="stable")
        self.order = order
        rank = np.empty(n, dtype=int)
        rank[order] = np.arange(n)
        p = np.where(parent[order] >= 0, rank[np.maximum(parent[order], 0)], n)  # n: none
        bounds = np.searchsorted(height[order], np.arange(height.max() + 2))
        self._w = w = np.zeros((3, n + 1))    # diagonal, right-hand side, coupling (by rank)
        self._yr = yr = np.zeros((2, n + 1))  # y, r
        self._gs = gs = np.zeros((2, n + 1))  # -g, g
        self._c = c = np.zeros((2, n + 1))    # what each node gives its parent: -g r, g y
        self._x = x = np.zeros(n + 1)
        self._t = t = np.empty(n + 1)
        # Per height: views of the buffers (made once) and, from height 1, the children of its
        # nodes grouped by parent, each group led by the empty slot n so that none is empty.
        self.forward, self.backward = [], []
        for h in range(height.max() + 1):
            s = slice(int(bounds[h]), int(bounds[h + 1]))
            pull = None
            if h:
                kids = [np.concatenate([[n], np.flatnonzero(p == k)]) for k in range(s.start, s.stop)]
                starts = np.cumsum([0] + [len(k) for k in kids[:-1]])
                pull = (np.concatenate(kids), starts, w[0:2, s])
            self.forward.append((pull, w[1:3, s], w[0, s], yr[:, s], yr[::-1, s], gs[:, s], c[:, s]))
            self.backward.append((p[s], t[s], yr[1, s], yr[0, s], x[s]))
        self.backward.reverse()

    def solve(self, diag, g, b, out):
        w, c, x, gs = self._w, self._c, self._x, self._gs
        order = self.order
        diag.take(order, out=w[0, :-1])
        b.take(order, out=w[1, :-1])
        g.take(order, out=w[2, :-1])
        np.negative(w[2], out=gs[0])
        gs[1] = w[2]
        for pull, bg, d, yr, ry, gsign, give in self.forward:
            if pull is not None:
                gather, starts, db = pull
                db += np.add.reduceat(c.take(gather, axis=1), starts, axis=1)
            np.divide(bg, d, out=yr)
            np.multiply(ry, gsign, out=give)
        for p, t, r, y, xs in self.backward:
            x.take(p, out=t)
            t *= r
            np.add(y, t, out=xs)
        out[order] = x[:-1]


class TreeSolver:
    """Solver for ``(diag(d) + L) v = b`` on a tree (or forest) in Hines order.

    Parameters
    ----------
    parent : ndarray of int
        Parent of each node (-1 for roots); every parent precedes its children, and a node
        with one child is followed by that child (depth-first numbering).
    g_axial : ndarray, µS
        Axial conductance between each node and its parent.
    """

    def __init__(self, parent, g_axial):
        parent = np.asarray(parent, dtype=int)
        g_axial = np.asarray(g_axial, dtype=float)
        n = len(parent)
        idx = np.arange(n)
        has_parent = parent >= 0
        if np.any(parent[has_parent] >= idx[has_parent]):
            raise HHCableError("nodes are not in Hines order: a parent follows its child")
        self.n = n
        self.parent = parent
        self.g_axial = np.where(has_parent, g_axial, 0.0)
        children = _children(parent)
        single = children == 1
        child_of_single = idx[has_parent][single[parent[has_parent]]]
        if np.any(child_of_single != parent[child_of_single] + 1):
            raise HHCableError("nodes are not numbered depth-first: an only child does not follow its parent")
        self.junctions = idx[children >= 2]

        # Constant axial Laplacian, assembled once; inspectable as `axial_matrix`.
        rows, cols = idx[has_parent], parent[has_parent]
        g = self.g_axial[has_parent]
        self.axial_diag = np.bincount(rows, g, n) + np.bincount(cols, g, n)
        off = sp.coo_matrix((-g, (rows, cols)), shape=(n, n))
        self.axial_matrix = (off + off.T + sp.diags(self.axial_diag)).tocsr()
        self._plan, _ = _plan(parent)
        self._diag = np.empty(n)

    def solve(self, d, b, out=None):
        """Solve ``(diag(d) + L) v = b``.

        Parameters
        ----------
        d : ndarray, µS
            Diagonal load of each node (capacitance / step + channel conductance).
        b : ndarray, nA
            Right-hand side.
        out : ndarray, optional
            Where to write the solution (may be ``b``); a new array if not given.

        Returns
        -------
        ndarray, mV
        """
        out = np.empty(self.n) if out is None else out
        np.add(d, self.axial_diag, out=self._diag)
        if out is b:
            b = b.copy()
        self._plan.solve(self._diag, self.g_axial, b, out)
        return out

    def matrix(self, d):
        """The full system matrix ``diag(d) + L`` as a scipy.sparse CSR matrix (µS)."""
        return (self.axial_matrix + sp.diags(np.asarray(d, dtype=float))).tocsr()

    def solve_reference(self, d, b):
        """Solve the same system with scipy.sparse.linalg (the reference for :meth:`solve`)."""
        return spla.spsolve(self.matrix(d).tocsc(), b)


class LayerSolver:
    """The system of a forest whose nodes may carry an extracellular layer (NEURON's
    ``extracellular``), assembled and solved with scipy.sparse: the reference for the
    compiled block elimination (:func:`hhcable.kernels.solve_step_layer`).

    The unknowns are the intracellular potential ``vi`` of every node, then the layer
    potential ``vx`` of every node (µS, nA, mV throughout).  A node with the layer has the rows

    ``(Dm + Li) vi - Dm vx = b_i`` and ``-Dm vi + (Dm + Lx + Dx) vx = b_x``

    (``Dm`` its membrane load, capacitance over the step plus channel conductance; ``Li`` and
    ``Lx`` the axial Laplacians inside and in the layer; ``Dx`` the layer's load to the
    medium, ``xg`` plus ``xc`` over the step).  A node without the layer has ``vx`` given:
    its rows are ``(Dm + Li) vi = b_i`` and ``vx = b_x``.  The matrix is symmetric, and a tree
    of 2 x 2 blocks whose couplings to the parent are diagonal.

    Parameters
    ----------
    parent : ndarray of int
        As :class:`TreeSolver`.
    g_axial : ndarray, µS
        Axial conductance inside, between each node and its parent.
    g_layer : ndarray, µS
        Axial conductance of the layer between each node and its parent (0: not joined).
    layer : ndarray of bool
        Nodes with the layer.
    """

    def __init__(self, parent, g_axial, g_layer, layer):
        parent = np.asarray(parent, dtype=int)
        n = len(parent)
        self.n, self.layer = n, np.asarray(layer, bool)
        self.inner = TreeSolver(parent, g_axial)
        self.outer = TreeSolver(parent, np.where(parent >= 0, g_layer, 0.0))
        li, lx = self.inner.axial_matrix.tocoo(), self.outer.axial_matrix.tocoo()
        idx = np.arange(n)
        on = np.flatnonzero(self.layer)
        self._rows = np.concatenate([li.row, lx.row + n, idx, on, on + n, idx + n])
        self._cols = np.concatenate([li.col, lx.col + n, idx, on + n, on, idx + n])
        self._fixed = np.concatenate([li.data, lx.data])
        self._on = on

    def matrix(self, dm, dx):
        """The system matrix (2n x 2n, µS, CSC) for membrane loads ``dm`` and layer loads ``dx`` (µS)."""
        dm = np.asarray(dm, dtype=float)
        on = self._on
        lower = np.where(self.layer, dm + dx, 1.0)
        data = np.concatenate([self._fixed, dm, -dm[on], -dm[on], lower])
        return sp.csc_matrix((data, (self._rows, self._cols)), shape=(2 * self.n, 2 * self.n))

    def solve(self, dm, dx, b):
        """Solve for ``(vi, vx)`` (mV, shape (2n,)) with right-hand side ``b`` (nA, shape (2n,))."""
        return spla.splu(self.matrix(dm, dx)).solve(np.asarray(b, dtype=float))

"""Implicit solve of the voltage equation on a tree of compartments.

Each time step solves ``(D + L) v = b`` where ``L`` is the constant axial-conductance
Laplacian of the tree (µS) and ``D`` a diagonal that changes each step (capacitance over
the step plus the channels' conductance, µS).

Nodes are in Hines (depth-first) order, so removing the *junctions* (nodes with two or more
children) leaves unbranched chains of consecutive nodes.  The fast solve treats all chains at
once as one symmetric positive-definite tridiagonal system (a single LAPACK ``ptsv`` call with
three right-hand sides: the load, and unit loads at each chain's two ends), then solves the
small system left at the junctions (the Schur complement, itself tree-shaped, by elimination
from its leaves) and adds the junction voltages back along the chains.  Work per step is O(n);
the Python overhead grows with the number of junctions, not of nodes.  An unbranched cable (or
a batch of them) has no junctions and costs one ``ptsv`` call.

:meth:`TreeSolver.solve_reference` solves the same system with scipy.sparse; the two agree
to round-off (tested to 1e-10).
"""

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import lapack

from .errors import HHCableError


def _tree_solve(parent, diag, off, rhs):
    """Solve a small tree-structured symmetric system by elimination from the leaves.

    ``parent[j] < j`` is the parent of row ``j`` (-1 for roots), ``off[j]`` its coupling to
    the parent, ``diag`` and ``rhs`` the diagonal and right-hand side (Python lists, which
    are overwritten).  Python scalars: the junctions are few, and list arithmetic beats a
    numpy call per junction.
    """
    for j in range(len(parent) - 1, -1, -1):
        p = parent[j]
        if p >= 0:
            factor = off[j] / diag[j]
            diag[p] -= factor * off[j]
            rhs[p] -= factor * rhs[j]
    v = [0.0] * len(parent)
    for j, p in enumerate(parent):
        v[j] = (rhs[j] - off[j] * v[p]) / diag[j] if p >= 0 else rhs[j] / diag[j]
    return v


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
        children = np.bincount(parent[has_parent], minlength=n)
        junction = children >= 2
        single = (children == 1) & ~junction
        child_of_single = idx[has_parent][single[parent[has_parent]]]
        if np.any(child_of_single != parent[child_of_single] + 1):
            raise HHCableError("nodes are not numbered depth-first: an only child does not follow its parent")

        # Constant axial Laplacian, assembled once; inspectable as `axial_matrix`.
        rows, cols = idx[has_parent], parent[has_parent]
        g = self.g_axial[has_parent]
        self.axial_diag = np.bincount(rows, g, n) + np.bincount(cols, g, n)
        off = sp.coo_matrix((-g, (rows, cols)), shape=(n, n))
        self.axial_matrix = (off + off.T + sp.diags(self.axial_diag)).tocsr()

        # Tridiagonal bands along the chains (couplings to or from junctions are cut).
        link = has_parent[1:] & (parent[1:] == idx[:-1]) & ~junction[:-1] & ~junction[1:]
        self._band = np.where(link, -self.g_axial[1:], 0.0)
        self._e = np.empty(max(n - 1, 0))
        self._diag = np.empty(n)
        self.junctions = idx[junction]
        self._setup_junctions(junction, has_parent, children)

    def _setup_junctions(self, junction, has_parent, children):
        n, parent = self.n, self.parent
        nj = len(self.junctions)
        self._nj = nj
        if nj == 0:
            return
        jpos = np.full(n, -1)
        jpos[self.junctions] = np.arange(nj)
        chain_node = ~junction
        first = chain_node & (~has_parent | junction[np.maximum(parent, 0)])
        # A chain's last node has no child or a junction as its only child.
        nxt_is_junction = np.zeros(n, bool)
        nxt_is_junction[:-1] = junction[1:] & (parent[1:] == np.arange(n - 1))
        last = chain_node & ((children == 0) | nxt_is_junction)
        f, l = np.flatnonzero(first), np.flatnonzero(last)
        chain_id = np.cumsum(first) - 1
        top = np.where(has_parent[f], jpos[np.maximum(parent[f], 0)], nj)  # nj: no junction
        g_top = np.where(top < nj, self.g_axial[f], 0.0)
        bottom = np.where(nxt_is_junction[l], jpos[np.minimum(l + 1, n - 1)], nj)
        g_bot = np.where(bottom < nj, self.g_axial[np.minimum(l + 1, n - 1)], 0.0)

        self._first, self._last = f, l
        self._top, self._bottom, self._g_top, self._g_bot = top, bottom, g_top, g_bot
        # Per node: its chain's end junctions (nj: none) and couplings (0 on junction rows).
        cid = np.where(chain_node, chain_id, 0)
        self._node_top = np.where(chain_node, top[cid], nj)
        self._node_bottom = np.where(chain_node, bottom[cid], nj)
        self._node_g_top = np.where(chain_node, g_top[cid], 0.0)
        self._node_g_bot = np.where(chain_node, g_bot[cid], 0.0)
        self._gv = np.empty(n)
        self._rhs = np.zeros((n, 3), order="F")
        self._unit = np.zeros((n, 2), order="F")
        self._unit[f, 0] = 1.0
        self._unit[l, 1] = 1.0

        # The junction system is itself a tree: each junction couples to its parent junction
        # either through a chain (top and bottom both junctions) or directly (parent node).
        both = (top < nj) & (bottom < nj)
        self._chain_link = np.flatnonzero(both)
        self._chain_link_j = bottom[both]
        j_parent = np.full(nj, -1)
        j_parent[bottom[both]] = top[both]
        jj_child = np.flatnonzero(junction & has_parent & junction[np.maximum(parent, 0)])
        j_parent[jpos[jj_child]] = jpos[parent[jj_child]]
        self._j_parent = j_parent.tolist()
        self._j_off = np.zeros(nj)
        self._j_off[jpos[jj_child]] = -self.g_axial[jj_child]

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
        diag = self._diag
        np.add(d, self.axial_diag, out=diag)
        if not self._nj:
            np.copyto(out, b)
            self._chains(diag, out)
            return out
        rhs = self._rhs
        rhs[:, 0] = b
        diag[self.junctions] = 1.0
        rhs[self.junctions, 0] = 0.0
        rhs[:, 1:] = self._unit
        self._chains(diag, rhs)
        self._junction_solve(d, b, rhs, out)
        return out

    def _chains(self, diag, rhs):
        """Solve the chains' tridiagonal system in place in ``rhs`` (``diag`` is overwritten).

        The matrix is symmetric and, with non-negative loads, diagonally dominant, so LAPACK's
        positive-definite tridiagonal solve (no pivoting) applies.
        """
        np.copyto(self._e, self._band)
        _, _, x, info = lapack.dptsv(diag, self._e, rhs, overwrite_d=1, overwrite_e=1, overwrite_b=1)
        if info != 0:
            raise HHCableError(f"tridiagonal solve failed (LAPACK dptsv info {info}): a negative "
                               "membrane load made the matrix indefinite")
        if not np.shares_memory(x, rhs):
            np.copyto(rhs, x.reshape(rhs.shape))

    def _junction_solve(self, d, b, x, out):
        nj, f, l = self._nj, self._first, self._last
        top, bottom, gt, gb = self._top, self._bottom, self._g_top, self._g_bot
        y, u, w = x[:, 0], x[:, 1], x[:, 2]
        diag = d[self.junctions] + self.axial_diag[self.junctions]
        diag -= np.bincount(top, gt * gt * u[f], nj + 1)[:nj]
        diag -= np.bincount(bottom, gb * gb * w[l], nj + 1)[:nj]
        off = self._j_off
        off[self._chain_link_j] = -(gt * gb * u[l])[self._chain_link]
        rhs_j = b[self.junctions] + np.bincount(top, gt * y[f], nj + 1)[:nj]
        rhs_j += np.bincount(bottom, gb * y[l], nj + 1)[:nj]
        vj = _tree_solve(self._j_parent, diag.tolist(), off.tolist(), rhs_j.tolist())
        vj_ext = np.append(vj, 0.0)
        # Every node of a chain: y + u g_top V_top + w g_bottom V_bottom (junction rows of
        # y, u, w are zero; their voltages are set after).
        gv = self._gv
        np.take(vj_ext, self._node_top, out=gv)
        gv *= self._node_g_top
        gv *= u
        np.add(y, gv, out=out)
        np.take(vj_ext, self._node_bottom, out=gv)
        gv *= self._node_g_bot
        gv *= w
        out += gv
        out[self.junctions] = vj

    def matrix(self, d):
        """The full system matrix ``diag(d) + L`` as a scipy.sparse CSR matrix (µS)."""
        return (self.axial_matrix + sp.diags(np.asarray(d, dtype=float))).tocsr()

    def solve_reference(self, d, b):
        """Solve the same system with scipy.sparse.linalg (the reference for :meth:`solve`)."""
        return spla.spsolve(self.matrix(d).tocsc(), b)

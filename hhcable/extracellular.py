"""Electrodes in a homogeneous isotropic medium: stimulation, recording, activating function.

The medium has one conductivity σ (S/m) everywhere and no boundaries, so a point current
``I`` sets up the potential ``I / (4πσr)`` at a distance ``r`` (the volume-conductor
solution of Laplace's equation; Plonsey & Barr, *Bioelectricity*, ch. 8).  In hhcable's units
that formula is exact without factors: 1 nA at 1 µm in 1 S/m gives ``1/(4π)`` mV, so

- stimulation: a point electrode passing ``I`` µA makes ``1e3 · I / (4πσ r)`` mV at every
  node (:meth:`PointElectrode.potential`, mV per µA), which the engine applies as
  NEURON's ``e_extracellular`` (:meth:`hhcable.simulation.Simulation.apply_extracellular`);
- recording: each node's membrane current ``I_i`` (nA, outward positive) adds
  ``I_i / (4πσ r_i)`` mV at the electrode (:meth:`PointElectrode.weights`, mV per nA), either
  from a point at the node or spread evenly along the node's segment (the line-source
  formula of Holt & Koch 1999, J Comput Neurosci 6:169, eq. 2).

Distances shorter than a compartment's radius are raised to its radius: the formulas hold
outside the membrane only, and an electrode on the axis would otherwise see an infinite
potential.

:func:`activating_function` is Rattay's (1986, IEEE Trans Biomed Eng 33:974; 1989, 36:676):
the rate at which an extracellular potential starts to charge each compartment's membrane.
Thresholds (bisection on the amplitude, many amplitudes run as one batch), strength–duration
curves and Weiss's law are in :mod:`hhcable.thresholds`.
"""

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from . import validate
from .cell import Cell
from .errors import InputError
from .units import NF_PER_UF_CM2_UM2

#: Conductivity (S/m) of the medium when none is given: 0.3 S/m (ρe ≈ 333 Ω·cm), the
#: homogeneous value for grey matter and nerve tissue used by Holt & Koch (1999) and close to
#: Rattay's ρe = 300 Ω·cm.  MRG (McIntyre et al. 2002) use 0.2 S/m (ρe = 500 Ω·cm).
DEFAULT_SIGMA_S_M = 0.3
#: mV at 1 µm from a 1 nA point source in a 1 S/m medium, times 4π: nA / (S/m · µm) = mV exactly.
MV_PER_NA_PER_S_M_UM = 1.0
#: nA per µA: stimulating electrodes pass µA, membrane currents are in nA.
NA_PER_UA = 1e3
#: Conductivity range accepted (S/m): from fat and bone (~0.02) down a decade, up to saline
#: (~2) and a decade more.
SIGMA_S_M = validate.Limits(1e-3, 20.0, "S/m", "tissue conducts 0.01–2 S/m")

__all__ = ["PointElectrode", "point_source_potential", "line_source_potential", "activating_function",
           "DEFAULT_SIGMA_S_M"]


def point_source_potential(current, r, sigma=DEFAULT_SIGMA_S_M):
    """Potential (mV) at distance ``r`` (µm) from a point current ``current`` (nA) in a medium of ``sigma`` (S/m).

    ``V = I / (4πσr)``.  Arrays broadcast.
    """
    return MV_PER_NA_PER_S_M_UM * np.asarray(current, dtype=float) / (4 * np.pi * sigma * np.asarray(r, dtype=float))


def line_source_potential(current, start, stop, r, sigma=DEFAULT_SIGMA_S_M):
    """Potential (mV) of a current spread evenly along a straight segment.

    Holt & Koch (1999) eq. 2, ``I/(4πσΔs) · ln[(√(h² + r²) − h) / (√(l² + r²) − l)]``, written
    as the integral it is, ``I/(4πσΔs) · [asinh(stop/r) − asinh(start/r)]``, which does not
    lose digits when the electrode is far off the segment's end.  Arrays broadcast.

    Parameters
    ----------
    current : float or ndarray, nA
        Total current leaving the segment.
    start, stop : float or ndarray, µm
        Signed positions of the segment's ends along its axis, measured from the foot of the
        perpendicular dropped from the electrode onto that axis (``stop > start``).
    r : float or ndarray, µm
        Distance of the electrode from the axis (> 0).
    sigma : float, S/m

    Returns
    -------
    ndarray, mV
        Tends to :func:`point_source_potential` at the segment's centre far away.
    """
    start, stop, r = (np.asarray(a, dtype=float) for a in (start, stop, r))
    per_length = (np.arcsinh(stop / r) - np.arcsinh(start / r)) / (stop - start)
    return point_source_potential(current, 1.0, sigma) * per_length


def _segment_ends(comp):
    """Ends (µm, shape (n, 2, 3)) of each node's segment, along the polyline of its section's nodes.

    A segment of a section cut into ``nseg`` is ``length / nseg`` long and centred on its
    node; a zero-area node gets a segment of zero length at its own position.
    """
    ends = np.repeat(comp.xyz[:, None, :], 2, axis=1)
    for nodes in comp.section_nodes:
        inner = nodes[1:-1]
        arc = comp.distance[nodes]
        half = (arc[-1] - arc[0]) / len(inner) / 2
        for side, sign in ((0, -1.0), (1, 1.0)):
            at = comp.distance[inner] + sign * half
            ends[inner, side] = np.column_stack([np.interp(at, arc, comp.xyz[nodes, c]) for c in range(3)])
    return ends


class PointElectrode:
    """A point (monopolar) electrode in a homogeneous isotropic medium, the return far away.

    Parameters
    ----------
    x, y, z : float, µm
        Position, in the coordinates of the morphology (``Morphology.cable`` lies along x
        from the origin).
    sigma : float, S/m
        Conductivity of the medium (default :data:`DEFAULT_SIGMA_S_M`, 0.3 S/m).

    Examples
    --------
    >>> import hhcable as hc
    >>> cell = hc.Cell(hc.Morphology.cable(length=1000.0, diam=2.0), max_segment=100.0)
    >>> e = hc.PointElectrode(550.0, 100.0, 0.0, sigma=0.3)
    >>> node = cell.locate(0.5)                       # the segment centred at x = 550 µm
    >>> round(float(e.distance(cell)[node]), 6)
    100.0
    >>> round(float(e.potential(cell)[node]), 3)      # mV per µA: 1e3 / (4π · 0.3 · 100)
    2.653
    """

    def __init__(self, x, y, z, sigma=DEFAULT_SIGMA_S_M):
        self.xyz = np.array([validate.real(v, k, validate.COORDINATE_UM) for k, v in (("x_um", x), ("y_um", y), ("z_um", z))])
        self.sigma = validate.real(sigma, "sigma_S_m", SIGMA_S_M, positive=True)

    def __repr__(self):
        x, y, z = self.xyz
        return f"PointElectrode(x={x:g}, y={y:g}, z={z:g}, sigma={self.sigma:g})"

    def distance(self, cell):
        """Distance (µm) from the electrode to each node of ``cell``, at least the node's radius."""
        comp = _compartments(cell)
        return np.maximum(np.linalg.norm(comp.xyz - self.xyz, axis=1), comp.diam / 2)

    def potential(self, cell):
        """Extracellular potential (mV per µA the electrode passes) at each node of ``cell``.

        Feed it to :meth:`~hhcable.simulation.Simulation.apply_extracellular` with a
        stimulus whose amplitude is in µA; negative current (cathodic) depolarises the
        membrane next to the electrode.
        """
        return point_source_potential(NA_PER_UA, self.distance(cell), self.sigma)

    def weights(self, cell, source="line"):
        """Potential (mV) at the electrode per nA of membrane current of each node of ``cell``.

        Parameters
        ----------
        cell : Cell
        source : {"line", "point"}
            ``"line"``: each node's current leaves evenly along its segment (Holt & Koch
            1999); ``"point"``: from the node's centre.  Distances from the axis (line) or
            the centre (point) are at least the node's radius.

        Returns
        -------
        ndarray, mV/nA
            For :meth:`~hhcable.simulation.Simulation.record_extracellular`.
        """
        if source == "point":
            return point_source_potential(1.0, self.distance(cell), self.sigma)
        if source != "line":
            raise InputError(f"unknown source {source!r}; use 'line' or 'point'", key="source")
        comp = _compartments(cell)
        ends = _segment_ends(comp)
        axis = ends[:, 1] - ends[:, 0]
        length = np.linalg.norm(axis, axis=1)
        line = length > 0
        out = point_source_potential(1.0, self.distance(cell), self.sigma)  # zero-length: a point
        unit = axis[line] / length[line, None]
        start = np.einsum("ij,ij->i", ends[line, 0] - self.xyz, unit)  # foot of the perpendicular at 0
        off_axis = ends[line, 0] - self.xyz - start[:, None] * unit
        r = np.maximum(np.linalg.norm(off_axis, axis=1), comp.diam[line] / 2)
        out[line] = line_source_potential(1.0, start, start + length[line], r, self.sigma)
        return out


def _compartments(cell):
    if not isinstance(cell, Cell):
        raise InputError(f"expected a Cell, got {type(cell).__name__}", key="cell")
    return cell.compartments


def activating_function(cell, ve):
    """Rattay's activating function: how fast an extracellular potential starts to move each membrane.

    ``f_i = (1/C_i) Σ_j g_ij (Vi_j − Ve_i)`` over the axial neighbours ``j`` of compartment
    ``i``, where at rest the intracellular potential ``Vi_j`` of a compartment is its
    extracellular potential ``Ve_j``.  Zero-area nodes (section ends, branch points) carry no
    membrane: their intracellular potential is the one at which no current flows into them
    (Kirchhoff), so a sealed end feels nothing and a branch point joins its neighbours.  On a
    uniform straight fibre this is the second difference of ``Ve`` times ``d / (4 ρi cm Δx²)``,
    which tends to Rattay's ``(d / 4ρi cm) ∂²Ve/∂x²``.  Positive ``f`` depolarises.

    Parameters
    ----------
    cell : Cell
    ve : ndarray, mV
        Extracellular potential at each node (e.g. ``electrode.potential(cell) * amp_uA``).

    Returns
    -------
    ndarray, mV/ms
        One value per node; NaN at the zero-area nodes.
    """
    comp = _compartments(cell)
    n = comp.n_nodes
    ve = np.asarray(ve, dtype=float)  # no bound: near an electrode tens of volts are real
    if ve.shape != (n,) or not np.all(np.isfinite(ve)):
        raise InputError(f"needs one finite potential per node ({n}), got shape {ve.shape}", key="ve_mV")
    child = np.flatnonzero(comp.parent >= 0)
    par, g = comp.parent[child], comp.g_axial[child]
    # Laplacian of the axial conductances (µS): (L v)_i = Σ_j g_ij (v_i − v_j).
    lap = sp.coo_matrix((np.concatenate([-g, -g, g, g]),
                         (np.concatenate([child, par, child, par]), np.concatenate([par, child, child, par]))),
                        shape=(n, n)).tocsr()
    membrane = comp.area > 0
    vi = ve.copy()
    bare = np.flatnonzero(~membrane)
    if bare.size:
        inner = np.flatnonzero(membrane)
        vi[bare] = spla.spsolve(lap[bare][:, bare].tocsc(), -(lap[bare][:, inner] @ ve[inner]))
    capacitance = cell.node_cm * comp.area * NF_PER_UF_CM2_UM2  # nF
    f = np.full(n, np.nan)
    f[membrane] = -(lap @ vi)[membrane] / capacitance[membrane]  # nA / nF = mV/ms
    return f

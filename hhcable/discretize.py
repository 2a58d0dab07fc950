"""Cut a morphology into compartments, numbered in Hines order.

The scheme is NEURON's: each section is cut into ``nseg`` segments of equal length with a
node at the centre of each, and every section has a zero-area node at its far (1) end; the
tree's root has one at its start.  A child section hangs from its parent's 1-end node.
Membrane area and axial resistance are integrated exactly over the frustums between samples,
so a tapering or bumpy section gets the area and resistance of its real shape.

Nodes are numbered depth-first (every parent before its children), and the nodes of an
unbranched run are consecutive, so the voltage matrix is tridiagonal along each run.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .units import MOHM_PER_OHM_CM_PER_UM

#: Frequency (Hz) at which NEURON's d_lambda rule measures the AC length constant.
D_LAMBDA_FREQUENCY_HZ = 100.0


@dataclass
class Compartments:
    """The discretised cell: one entry per node, in Hines order.

    Attributes
    ----------
    parent : ndarray of int
        Parent node of each node; -1 for the root.
    g_axial : ndarray, µS
        Axial conductance between each node and its parent (0 for the root).
    area : ndarray, µm²
        Membrane area of each node (0 for the zero-area section-end nodes).
    distance : ndarray, µm
        Path distance from the root node (the 0 end of the root section), along the
        sections as they are joined.
    xyz : ndarray, shape (n, 3), µm
        Position of each node.
    diam : ndarray, µm
        Diameter of the membrane at each node.
    type : ndarray of int
        SWC type code of each node.
    section : ndarray of int
        Section of each node (-1 for the root node).
    x : ndarray
        Position of each node as a fraction of its section's length.
    section_nodes : list of ndarray
        For each section, its nodes from its start (the parent's node) to its 1-end node.
    sample_node : dict
        SWC sample id -> the node whose segment holds the sample.
    """

    parent: np.ndarray
    g_axial: np.ndarray
    area: np.ndarray
    distance: np.ndarray
    xyz: np.ndarray
    diam: np.ndarray
    type: np.ndarray
    section: np.ndarray
    x: np.ndarray
    section_nodes: list = field(default_factory=list)
    sample_node: dict = field(default_factory=dict)

    @property
    def n_nodes(self):
        """Number of nodes, the zero-area section ends included."""
        return len(self.parent)

    @property
    def n_compartments(self):
        """Number of compartments with membrane (segments)."""
        return int(np.count_nonzero(self.area > 0))

    def path(self, a, b):
        """Nodes on the path from node ``a`` to node ``b`` and their signed distance from ``a`` (µm)."""
        up_a, up_b = self._ancestors(a), self._ancestors(b)
        cut = int(np.argmax(np.isin(up_a, up_b)))  # first common ancestor along a's way up
        lca = up_a[cut]
        leg_a = up_a[: cut + 1]
        leg_b = up_b[: int(np.flatnonzero(up_b == lca)[0])][::-1]
        nodes = np.concatenate([leg_a, leg_b])
        d = self.distance
        along = np.concatenate([d[a] - d[leg_a], d[a] - 2 * d[lca] + d[leg_b]])
        return nodes, along

    def _ancestors(self, node):
        """``node`` and its ancestors up to the root, as an array (whole sections at a time)."""
        parts = []
        node = int(node)
        while True:
            sec = self.section[node]
            if sec < 0:  # a root node
                parts.append(np.array([node]))
                return np.concatenate(parts)
            first = self.section_nodes[sec][1]  # the section's nodes are consecutive
            parts.append(np.arange(node, first - 1, -1))
            node = int(self.section_nodes[sec][0])


def lambda_ac(diam, Ra, cm, frequency=D_LAMBDA_FREQUENCY_HZ):
    """AC length constant of a cylinder, as NEURON's ``lambda_f``.

    Parameters
    ----------
    diam : float or ndarray, µm
    Ra : float, Ω·cm
    cm : float, µF/cm²
    frequency : float, Hz

    Returns
    -------
    float or ndarray, µm
    """
    # 1e5 turns sqrt(µm / (Hz Ω·cm µF/cm²)) into µm, as in NEURON's stdlib.hoc.
    return 1e5 * np.sqrt(diam / (4 * np.pi * frequency * Ra * cm))


def _nseg(arc, diam, max_segment, d_lambda, Ra, cm):
    """Number of segments for one section (an odd number under the d_lambda rule)."""
    length = arc[-1]
    n = 1
    if max_segment is not None:
        n = max(n, math.ceil(length / max_segment - 1e-9))
    if d_lambda is not None:
        # Electrotonic length at 100 Hz integrated over the frustums, as NEURON's lambda_f.
        dd = np.diff(arc) / np.sqrt(diam[:-1] + diam[1:])
        electrotonic = math.sqrt(2) * float(dd.sum()) / float(lambda_ac(1.0, Ra, cm))
        n = max(n, int((electrotonic / d_lambda + 0.9) / 2) * 2 + 1)
    return n


def segment_of(x, nseg):
    """The segment (0..nseg-1) holding fraction ``x`` of a section, as NEURON's ``sec(x)``:
    ``floor(x nseg)``, so a point on a boundary belongs to the farther segment."""
    return min(int(x * nseg), nseg - 1)


class _Frustums:
    """Cumulative membrane area and axial resistance along one section's frustums.

    As NEURON, a step in radius where two points coincide adds the annulus between the two
    radii, to the segment that ends there (the first segment for a step at the 0 end).
    """

    def __init__(self, arc, radius, Ra):
        self.arc, self.radius, self.Ra = arc, radius, Ra
        h = np.diff(arc)
        self.slope = np.divide(np.diff(radius), h, out=np.zeros_like(h), where=h > 0)
        r0, r1 = radius[:-1], radius[1:]
        area = np.pi * (r0 + r1) * np.hypot(h, r1 - r0)  # h = 0: the annulus
        res = np.divide(self.Ra / np.pi * h, r0 * r1) * MOHM_PER_OHM_CM_PER_UM
        self.cum_area = np.concatenate([[0.0], np.cumsum(area)])
        self.cum_res = np.concatenate([[0.0], np.cumsum(res)])

    def _index(self, s):
        # The last point at or before s: past a step, the frustum after it.
        return np.searchsorted(self.arc, s, side="right") - 1

    def at(self, s):
        """Area (µm²) and resistance (MΩ) from the section start to arc positions ``s``
        (steps at ``s`` included)."""
        k = self._index(s)
        end = k >= len(self.arc) - 1
        k = np.minimum(k, len(self.arc) - 2)
        ds = np.where(end, 0.0, s - self.arc[k])
        r0 = self.radius[k]
        r1 = r0 + self.slope[k] * ds
        area = np.where(end, self.cum_area[-1], self.cum_area[k] + np.pi * (r0 + r1) * np.hypot(ds, r1 - r0))
        res = np.where(end, self.cum_res[-1],
                       self.cum_res[k] + self.Ra / np.pi * ds / (r0 * r1) * MOHM_PER_OHM_CM_PER_UM)
        return area, res

    def radius_at(self, s):
        k = np.clip(self._index(s), 0, len(self.arc) - 2)
        return self.radius[k] + self.slope[k] * (s - self.arc[k])


def _visit_order(sections):
    """Sections depth-first, a section's children attached at its 1 end first, so that a
    node with one child is followed by it (the Hines order the solver needs)."""
    kids = [[] for _ in sections]
    for sec in sections[1:]:
        kids[sec.parent].append(sec)
    order, stack = [], [sections[0]]
    while stack:
        sec = stack.pop()
        order.append(sec.index)
        stack.extend(sorted(kids[sec.index], key=lambda c: (c.parent_x == 1.0, -c.index)))
    return order


def discretize(morphology, Ra, cm, max_segment=None, d_lambda=None):
    """Cut ``morphology`` into compartments.

    Parameters
    ----------
    morphology : Morphology
    Ra : float, Ω·cm
        Axial resistivity.
    cm : float, µF/cm²
        Specific membrane capacitance (used by the d_lambda rule).
    max_segment : float, µm, optional
        Longest segment allowed.
    d_lambda : float, optional
        Longest segment as a fraction of the AC length constant at 100 Hz (NEURON's
        d_lambda rule; it gives an odd number of segments per section).  When both rules
        are given, each section gets the larger number of segments.

    Returns
    -------
    Compartments
    """
    if max_segment is None and d_lambda is None:
        raise InputError("give max_segment (µm) or d_lambda", key="discretization")
    for key, value in (("max_segment", max_segment), ("d_lambda", d_lambda), ("Ra", Ra), ("cm", cm)):
        if value is not None and not (np.isfinite(value) and value > 0):
            raise InputError(f"must be positive, got {value!r}", key=key)

    sections = morphology.sections
    root = sections[0].points[0]
    cols = {k: [] for k in ("parent", "g_axial", "area", "distance", "diam", "type", "section", "x")}
    xyz = [root[None, :3]]
    for k, v in (("parent", -1), ("g_axial", 0.0), ("area", 0.0), ("distance", 0.0),
                 ("diam", 2 * root[3]), ("type", sections[0].type), ("section", -1), ("x", 0.0)):
        cols[k].append(np.array([v]))
    section_nodes = [None] * len(sections)
    section_distance = [None] * len(sections)  # of the same nodes (µm)
    n = 1

    for i in _visit_order(sections):
        sec = sections[i]
        arc, pts = sec.arc, sec.points
        length = arc[-1]
        if not length > 0:
            raise InputError(f"section {sec.name} (ending at sample {sec.samples[-1]}) has zero length",
                             key=morphology.name)
        nseg = _nseg(arc, 2 * pts[:, 3], max_segment, d_lambda, Ra, cm)
        fr = _Frustums(arc, pts[:, 3], Ra)
        bounds = np.linspace(0.0, length, nseg + 1)
        centres = (bounds[:-1] + bounds[1:]) / 2
        area_b, res_b = fr.at(bounds)
        area_b[0] = 0.0  # a step at the 0 end belongs to the first segment
        _, res_c = fr.at(centres)
        # Resistance from each node to the previous one: parent node -> first centre,
        # centre -> centre, last centre -> 1-end node.
        res_to_parent = np.diff(np.concatenate([[0.0], res_c, [res_b[-1]]]))
        if sec.parent < 0:
            parent_node, base = 0, 0.0
        else:
            at = _attachment(len(section_nodes[sec.parent]) - 2, sec.parent_x)
            parent_node, base = int(section_nodes[sec.parent][at]), section_distance[sec.parent][at]
        idx = np.arange(n, n + nseg + 1)
        s_nodes = np.concatenate([centres, [length]])
        cols["parent"].append(np.concatenate([[parent_node], idx[:-1]]))
        cols["g_axial"].append(1.0 / res_to_parent)
        cols["area"].append(np.concatenate([np.diff(area_b), [0.0]]))
        cols["distance"].append(base + s_nodes)
        cols["diam"].append(2 * fr.radius_at(s_nodes))
        cols["type"].append(np.full(nseg + 1, sec.type))
        cols["section"].append(np.full(nseg + 1, sec.index))
        cols["x"].append(s_nodes / length)
        xyz.append(np.column_stack([np.interp(s_nodes, arc, pts[:, c]) for c in range(3)]))
        section_nodes[i] = np.concatenate([[parent_node], idx])
        section_distance[i] = np.concatenate([[base], base + s_nodes])
        n += nseg + 1

    return Compartments(
        parent=np.concatenate(cols["parent"]).astype(int),
        g_axial=np.concatenate(cols["g_axial"]).astype(float),
        area=np.concatenate(cols["area"]).astype(float),
        distance=np.concatenate(cols["distance"]).astype(float),
        xyz=np.concatenate(xyz),
        diam=np.concatenate(cols["diam"]).astype(float),
        type=np.concatenate(cols["type"]).astype(int),
        section=np.concatenate(cols["section"]).astype(int),
        x=np.concatenate(cols["x"]).astype(float),
        section_nodes=section_nodes,
        sample_node=_sample_nodes(morphology, section_nodes),
    )


def _attachment(nseg, x):
    """Position, in a section's node list (parent's node, centres, 1-end node), of the node
    at fraction ``x``: the 0 end, the 1 end, or the centre of the segment holding ``x``."""
    if x == 0.0:
        return 0
    if x == 1.0:
        return nseg + 1
    return 1 + segment_of(x, nseg)


def _sample_nodes(morphology, section_nodes):
    """SWC sample id -> the node whose segment holds the sample.

    A section's last sample belongs to its 1-end node, the root section's first sample to
    the root node; any other sample to the segment holding it (a sample on a boundary to
    the farther segment, as NEURON's ``sec(x)``).
    """
    sections = morphology.sections
    out = {}
    for sample, (i, s) in morphology.sectioning.place.items():
        nodes, length = section_nodes[i], sections[i].length
        if s >= length:
            out[sample] = int(nodes[-1])
        elif s <= 0.0 and i == 0:
            out[sample] = int(nodes[0])
        else:
            out[sample] = int(nodes[1 + segment_of(s / length, len(nodes) - 2)])
    return out

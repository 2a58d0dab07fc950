"""From samples to sections, by the rules of NEURON's Import3d (``Import3d_SWC_read``).

A reconstruction is a tree of samples; a simulator needs *sections*: unbranched cables,
each with its own 3-d points, attached to a point of its parent.  hhcable makes the same
sections NEURON's Import3d makes from the same SWC file, so segment areas, axial
resistances and spike times agree with NEURON (``tests/test_neuron_swc.py``).  See
``docs/soma.md`` for the figure.

Samples are taken in id order, as Import3d takes them (a file whose parents come after
their children, which Import3d refuses, is taken depth-first).  A *contiguous* child is the
sample right after its parent in that order.

Sections
    A section is a run of samples of one type; it ends at a branch point, a tip, a change of
    type, or a child that is not contiguous.  A run of soma samples continues through a
    soma sample whose next sample is its soma child, whatever neurites hang from it.

The soma
    one point
        A sphere of the sample's radius, represented as NEURON represents it: a cylinder
        along x whose length is its diameter (the sphere's area), with 3-d points at the
        centre and at x ± r.
    three points (NeuroMorpho.Org's rule)
        Three soma samples of one radius r, the root first and the other two its only
        children, with nothing hanging from them and 2r of path between them (within
        :data:`THREE_POINT_TOLERANCE`): the sphere of radius r at the root sample, as a
        one-point soma.
    more points (contours and cylinders)
        The frustums between consecutive soma samples.

Where a neurite attaches
    A neurite hanging from a one- or three-point soma, or from a soma sample that is not the
    last of its soma section, attaches to the soma's middle, ``soma(0.5)``; from the last
    sample of a soma section, to its ``1`` end; from the first sample of a soma that starts
    at the root, to its ``0`` end.  Other sections attach to the ``1`` end of their parent,
    except a branch from the first sample of a neurite that hangs from the soma (or from a
    root that is not soma), which attaches to that neurite's ``0`` end.

Where a neurite starts
    A neurite of two or more samples hanging from a one- or three-point soma or from the
    inside of a soma section starts at its own first sample (the soma sample is joined
    only electrically: NEURON's "wire").  So does one hanging from a soma sample that has
    soma children on both sides (more than one soma child).  Any other section starts at
    its parent's sample, and if that is a soma sample, with the neurite's own first radius
    (a cylinder, not a cone from the soma's radius).

Removed sections
    A section left with fewer than two points, or whose points all coincide, has no
    membrane; it is removed and its children attach where it attached (Import3d removes
    those of one point and those of two coincident points).
"""

import math
from dataclasses import dataclass

import numpy as np

#: SWC type code of the soma.
SOMA = 1
#: NeuroMorpho's three-point soma: the path through the three samples must equal the
#: diameter within this fraction (Import3d's value).
THREE_POINT_TOLERANCE = 0.01
#: Section names by SWC type code, as Import3d names them (``dend_7`` for type 7, ``minus_2``
#: for type -2).
TYPE_NAMES = {SOMA: "soma", 2: "axon", 3: "dend", 4: "apic"}
# Counts of children are kept in hundredths, as Import3d keeps them (1.01 means "one child,
# but end the section here"), as integers so that comparisons are exact.
_ONE = 100
_BREAK = 1


@dataclass(frozen=True, eq=False)
class Section:
    """An unbranched cable of the cell, as NEURON's Import3d makes it.

    Attributes
    ----------
    index : int
        Position in :attr:`Morphology.sections` (parents come first).
    name : str
        Import3d's name: ``soma[0]``, ``axon[2]``, ``dend[5]``, ``apic[0]``, ``dend_7[0]``...
    samples : tuple of int
        The section's own samples, from its 0 end to its 1 end (a three-point soma lists its
        root sample only).
    parent : int
        Index of the parent section, -1 for the root section.
    parent_x : float
        Where on the parent it attaches, as NEURON's ``connect``: 0, 0.5 or 1.
    start : int or None
        The parent's sample when the section's first 3-d point is a copy of it; None when
        the section starts at its own first sample.
    points : ndarray, shape (k, 4), µm
        The 3-d points ``x, y, z, radius`` NEURON gets (``pt3dadd`` with diameter 2 r).
    arc : ndarray, µm
        Path length from the 0 end to each point; ``arc[-1]`` is the section's length.
    """

    index: int
    name: str
    samples: tuple
    parent: int
    parent_x: float
    start: object
    points: np.ndarray
    arc: np.ndarray
    type: int

    @property
    def length(self):
        """Length of the section (µm)."""
        return float(self.arc[-1])


@dataclass
class Sectioning:
    """What :func:`build` returns.

    Attributes
    ----------
    sections : list of Section
    place : dict
        Sample id -> ``(section index, arc µm)``: where the sample sits.  Samples of removed
        sections sit where the section attached; the ends of a three-point soma at its centre.
    soma : str
        ``"none"``, ``"sphere"`` (one point), ``"three-point"`` or ``"cylinders"``.
    removed : list of (int, str)
        ``(last sample, reason)`` for every section removed.
    order : list of int
        The samples in the order they were read (id order, or depth-first).
    """

    sections: list
    place: dict
    soma: str
    removed: list
    order: list


def _order(graph, root):
    """Samples in the order Import3d reads them: id order, or depth-first where a parent
    follows its child."""
    if all(p < c for p, c in graph.edges):
        return sorted(graph.nodes)
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(sorted(graph.successors(node), reverse=True))
    return order


def _point(graph, sample):
    d = graph.nodes[sample]
    return (d["x"], d["y"], d["z"], d["radius"])


class _Tree:
    """The samples as arrays in reading order, and Import3d's counts of children."""

    def __init__(self, graph, root, three_point_sphere):
        self.order = _order(graph, root)
        index = {s: k for k, s in enumerate(self.order)}
        self.pts = np.array([_point(graph, s) for s in self.order], dtype=float).reshape(-1, 4)
        self.type = [graph.nodes[s]["type"] for s in self.order]
        preds = [next(iter(graph.predecessors(s)), None) for s in self.order]
        self.pix = [-1 if p is None else index[p] for p in preds]
        n = len(self.order)
        self.nchild, self.to_start = [0] * n, [False] * n
        self.soma_children = [0] * n
        for k in range(1, n):
            p = self.pix[k]
            self.nchild[p] += _ONE
            if p != k - 1:
                self.nchild[p] += _BREAK
                # A branch off a neurite's first sample (a neurite hanging from the soma, or
                # from a root that is not soma) attaches to that neurite's 0 end; Import3d
                # leaves out a first sample read second (p == 1), and so does this.
                if (p > 1 and self.type[p] != SOMA and self.type[self.pix[p]] == SOMA) or \
                        (p == 0 and self.type[p] != SOMA):
                    self.to_start[k] = True
                    self.nchild[p] = _ONE
            if self.type[p] != self.type[k]:
                self.nchild[p] += _BREAK
            if self.type[k] == SOMA and self.type[p] == SOMA:
                self.soma_children[p] += 1
        self.three_point = three_point_sphere and self._three_point_soma()
        if self.three_point:
            self.pix[2] = 1  # the two ends form one run with the centre (then dropped)
        for k in range(n - 1):
            if self.type[k] == SOMA and self.type[k + 1] == SOMA and self.pix[k + 1] == k:
                if k == 0 or self.soma_children[k] <= 1:
                    self.nchild[k] = _ONE

    def _three_point_soma(self):
        if sum(t == SOMA for t in self.type) != 3 or len(self.type) < 3:
            return False
        if not (self.pix[1] == 0 and self.pix[2] == 0 and self.nchild[1] == 0 and self.nchild[2] == 0):
            return False
        r = self.pts[:3, 3]
        if not (r[1] == r[0] and r[2] == r[0]) or any(t != SOMA for t in self.type[:3]):
            return False
        path = sum(math.dist(self.pts[k, :3], self.pts[0, :3]) for k in (1, 2))
        return abs(path / (2 * r[0]) - 1) < THREE_POINT_TOLERANCE

    def runs(self):
        """``(first, last)`` reading positions of each run of samples that makes a section."""
        runs, first = [], 0
        for k in range(len(self.order)):
            # Import3d runs on while the count is one; a run whose next sample is not the
            # child of its last (possible only in a file not written depth-first) is cut.
            if self.nchild[k] != _ONE or k + 1 == len(self.order) or self.pix[k + 1] != k:
                runs.append((first, k))
                first = k + 1
        return runs


def _arc(xyz):
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xyz, axis=0), axis=1))])


def _sphere_points(centre):
    """NEURON's cylinder for a sphere: length = diameter, along x, points at x - r, x, x + r."""
    x, y, z, r = centre
    return np.array([[x - r, y, z, r], [x, y, z, r], [x + r, y, z, r]])


def build(graph, root, three_point_sphere=True):
    """The sections of a tree of samples, by Import3d's rules (see the module docstring).

    Parameters
    ----------
    graph : networkx.DiGraph
        Samples with ``x, y, z, radius`` (µm) and ``type``; edges from parent to child.
    root : int
        The root sample.
    three_point_sphere : bool
        Apply NeuroMorpho's three-point soma rule (else a three-point soma is read as the
        frustums between its samples).

    Returns
    -------
    Sectioning
    """
    tree = _Tree(graph, root, three_point_sphere)
    runs = tree.runs()
    run_of = np.empty(len(tree.order), dtype=int)
    for i, (first, last) in enumerate(runs):
        run_of[first:last + 1] = i
    raw = []  # per run: dict with parent run, parent_x, own positions, points, start
    for i, (first, last) in enumerate(runs):
        own = list(range(first, last + 1))
        if i == 0:
            if tree.three_point:
                own = [0]
            pts = tree.pts[own]
            raw.append(dict(parent=-1, x=1.0, own=own, start=None, pts=_sphere_points(pts[0]) if len(own) == 1
                            else pts, type=tree.type[first]))
            continue
        p = tree.pix[first]
        prun = run_of[p]
        parent_type, kind = raw[prun]["type"], tree.type[first]
        neurite_on_soma = parent_type == SOMA and kind != SOMA
        n_own = len(own)
        x, wire, handled = 1.0, False, False
        if prun == 0:
            handled = True
            if neurite_on_soma and len(raw[0]["own"]) == 1:  # a one- or three-point soma
                x, wire = 0.5, n_own > 1
            elif p == 0:
                x, wire = 0.0, kind != SOMA and tree.soma_children[p] > 1
            else:
                handled = False
        if not handled and parent_type == SOMA:
            if p != raw[prun]["own"][-1]:  # inside the soma section
                x, wire = 0.5, neurite_on_soma and n_own > 1
            elif n_own > 1 and tree.soma_children[p] > 1 and kind != SOMA:
                wire = True
        if tree.to_start[first]:
            x = 0.0
        pts = tree.pts[own] if wire else np.vstack([tree.pts[p], tree.pts[own]])
        if not wire and neurite_on_soma:
            pts[0, 3] = pts[1, 3]
        raw.append(dict(parent=prun, x=x, own=own, start=None if wire else p, pts=pts, type=kind))

    # Remove sections without membrane, last first; their children attach where they did.
    removed, notes = set(), []
    for i in range(len(raw) - 1, 0, -1):
        pts = raw[i]["pts"]
        if len(pts) < 2 or np.all(pts[1:, :3] == pts[0, :3]):
            removed.add(i)
            last = tree.order[raw[i]["own"][-1]]
            notes.append((last, "one point" if len(pts) < 2 else "zero length"))
            for j in range(i + 1, len(raw)):
                if raw[j]["parent"] == i:
                    raw[j]["parent"], raw[j]["x"] = raw[i]["parent"], raw[i]["x"]
    kept = [i for i in range(len(raw)) if i not in removed]
    new_index = {old: new for new, old in enumerate(kept)}
    counts, sections, place = {}, [], {}
    for i in kept:
        r = raw[i]
        kind = r["type"]
        name = TYPE_NAMES.get(kind, f"dend_{kind}" if kind >= 0 else f"minus_{-kind}")
        counts[name] = counts.get(name, 0) + 1
        arc = _arc(r["pts"][:, :3])
        sec = Section(index=len(sections), name=f"{name}[{counts[name] - 1}]",
                      samples=tuple(tree.order[k] for k in r["own"]),
                      parent=new_index.get(r["parent"], -1), parent_x=r["x"],
                      start=None if r["start"] is None else tree.order[r["start"]],
                      points=r["pts"], arc=arc, type=kind)
        sections.append(sec)
        if len(r["own"]) == 1 and sec.parent < 0:
            place[sec.samples[0]] = (sec.index, sec.length / 2)
        else:
            offset = 0 if r["start"] is None else 1
            for j, sample in enumerate(sec.samples):
                place[sample] = (sec.index, float(arc[j + offset]))
    for i in sorted(removed):
        parent, x = raw[i]["parent"], raw[i]["x"]
        while parent in removed:
            parent, x = raw[parent]["parent"], raw[parent]["x"]
        sec = sections[new_index[parent]]
        for k in raw[i]["own"]:
            place[tree.order[k]] = (sec.index, x * sec.length)
    if tree.three_point:
        for k in (1, 2):
            place[tree.order[k]] = place[tree.order[0]]
    n_soma = sum(t == SOMA for t in tree.type)
    if n_soma == 0:
        soma = "none"
    elif tree.three_point:
        soma = "three-point"
    elif tree.type[0] == SOMA and len(raw[0]["own"]) == 1:
        soma = "sphere"
    else:
        soma = "cylinders"
    return Sectioning(sections, place, soma, notes, tree.order)

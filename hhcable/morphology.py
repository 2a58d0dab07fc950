"""Neuron shapes as trees of samples.

A :class:`Morphology` wraps a :class:`networkx.DiGraph` whose nodes are samples (SWC's
points) and whose edges run from parent to child.  Every node carries ``x, y, z`` and
``radius`` (µm) and ``type`` (an SWC type code: 1 soma, 2 axon, 3 basal dendrite,
4 apical dendrite, others kept as they are).  The shape between a sample and its parent is
a frustum (a truncated cone) whose type is the child's.

Samples become *sections* (unbranched cables with their own 3-d points) by the rules of
NEURON's Import3d, soma included: see :mod:`hhcable.sections`.

A Morphology knows nothing of channels or of how it is discretised.
"""

import networkx as nx
import numpy as np

from . import sections as _sections
from .errors import InputError
from .sections import TYPE_NAMES, Section

__all__ = ["Morphology", "Section", "REGIONS", "RALL_DIAM_RATIO"]

#: Region names accepted wherever a place is chosen by type, and their SWC type codes.
REGIONS = {name: code for code, name in TYPE_NAMES.items()}
#: Daughter-to-parent diameter ratio of a symmetric branch point obeying Rall's 3/2 rule.
RALL_DIAM_RATIO = 2.0 ** (-2.0 / 3.0)


def _positive(**values):
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not (
                np.isfinite(value) and value > 0):
            raise InputError(f"must be a positive number, got {value!r}", key=key)


def _pair(key, values):
    try:
        a, b = values
    except (TypeError, ValueError):
        raise InputError(f"must be a pair of numbers, got {values!r}", key=key) from None
    _positive(**{f"{key}[0]": a, f"{key}[1]": b})
    return float(a), float(b)


def _add(graph, parent, xyz, radius, type):
    """Add a sample (ids 0, 1, 2, ...) under ``parent`` and return its id."""
    sample = graph.number_of_nodes()
    x, y, z = (float(c) for c in xyz)
    graph.add_node(sample, x=x, y=y, z=z, radius=float(radius), type=int(type))
    if parent is not None:
        graph.add_edge(parent, sample)
    return sample


class Morphology:
    """A neuron's shape: a tree of samples with positions and radii (µm).

    Parameters
    ----------
    graph : networkx.DiGraph
        Edges from parent to child; every node has ``x``, ``y``, ``z``, ``radius`` (µm)
        and ``type`` (int) attributes.  It must be a tree with at least two samples, or a
        single soma sample (a sphere).
    name : str, optional
        A label used in messages (for example the file the shape came from).
    warnings : sequence of str, optional
        Soft problems found while reading the shape (``file:line: message``).
    three_point_sphere : bool, optional
        Read a NeuroMorpho three-point soma as the sphere it stands for (default, as NEURON
        does); False reads it as the two cylinders between its samples.
    regions : dict, optional
        More region names -> type code (for example ``{"node": 7, "internode": 8}`` for a
        myelinated fibre), usable wherever a region is named, beside :data:`REGIONS`.

    Attributes
    ----------
    warnings : list of str
        Soft problems a user can list (empty for shapes built in code).
    regions : dict
        Every region name this shape knows -> its type code.

    Raises
    ------
    InputError
        If the graph is not a single tree or a node lacks an attribute.
    """

    def __init__(self, graph, name="morphology", warnings=(), three_point_sphere=True, regions=None):
        self.name = name
        self.warnings = list(warnings)
        self.three_point_sphere = bool(three_point_sphere)
        self.regions = {**REGIONS, **(regions or {})}
        if graph.number_of_nodes() == 0:
            raise InputError("a morphology needs at least two samples", key=name)
        if not nx.is_arborescence(graph):
            raise InputError("the samples must form a single tree rooted at one sample", key=name)
        for node, data in graph.nodes(data=True):
            missing = {"x", "y", "z", "radius", "type"} - data.keys()
            if missing:
                raise InputError(f"sample {node} lacks {sorted(missing)}", key=name)
            if not data["radius"] > 0:
                raise InputError(f"sample {node} has radius {data['radius']}; radii must be > 0", key=name)
        if graph.number_of_nodes() == 1 and next(iter(graph.nodes(data="type")))[1] != REGIONS["soma"]:
            raise InputError("a morphology needs at least two samples (or one soma sample)", key=name)
        self.graph = graph
        self.root = next(n for n, d in graph.in_degree() if d == 0)
        self._sectioning = None

    # -- builders ---------------------------------------------------------------------
    @classmethod
    def cable(cls, length, diam, diam_end=None, type=REGIONS["axon"]):
        """An unbranched cable along x, starting at the origin.

        Parameters
        ----------
        length : float, µm
            Length of the cable.
        diam : float, µm
            Diameter at the root end (x = 0).
        diam_end : float, µm, optional
            Diameter at the far end; the cable tapers linearly.  Defaults to ``diam``.
        type : int, optional
            SWC type code of the cable (default 2, axon).

        Returns
        -------
        Morphology
        """
        diam_end = diam if diam_end is None else diam_end
        for key, value in (("length", length), ("diam", diam), ("diam_end", diam_end)):
            if not (np.isfinite(value) and value > 0):
                raise InputError(f"must be a positive number of µm, got {value!r}", key=key)
        graph = nx.DiGraph()
        graph.add_node(0, x=0.0, y=0.0, z=0.0, radius=diam / 2, type=type)
        graph.add_node(1, x=float(length), y=0.0, z=0.0, radius=diam_end / 2, type=type)
        graph.add_edge(0, 1)
        return cls(graph, name="cable")

    @classmethod
    def y_junction(cls, parent_length, parent_diam, daughter_lengths, daughter_diams, angle=60.0,
                   type=REGIONS["axon"]):
        """A parent cylinder along x that splits into two daughter cylinders.

        Each daughter starts with a sample at the branch point carrying its own diameter
        (a zero-length segment), so every branch is a true cylinder.

        Parameters
        ----------
        parent_length : float, µm
        parent_diam : float, µm
        daughter_lengths : pair of float, µm
        daughter_diams : pair of float, µm
        angle : float, degrees
            Angle between the daughters (in the xy plane).
        type : int
            SWC type code of all branches.

        Returns
        -------
        Morphology
            Samples 0 (root) and 1 (branch point); daughter k ends at sample ``3 + 2 k``.
        """
        _positive(parent_length=parent_length, parent_diam=parent_diam)
        lengths, diams = _pair("daughter_lengths", daughter_lengths), _pair("daughter_diams", daughter_diams)
        g = nx.DiGraph()
        root = _add(g, None, (0.0, 0.0, 0.0), parent_diam / 2, type)
        branch = _add(g, root, (float(parent_length), 0.0, 0.0), parent_diam / 2, type)
        for sign, length, diam in zip((1.0, -1.0), lengths, diams):
            theta = np.radians(sign * angle / 2)
            start = _add(g, branch, (float(parent_length), 0.0, 0.0), diam / 2, type)
            _add(g, start, (parent_length + length * np.cos(theta), length * np.sin(theta), 0.0), diam / 2, type)
        return cls(g, name="y_junction")

    @classmethod
    def binary_tree(cls, depth, length, diam, length_ratio=1.0, diam_ratio=1.0, rall=False,
                    type=REGIONS["dend"]):
        """A symmetric binary tree of cylinders: a trunk that splits ``depth`` times.

        Parameters
        ----------
        depth : int
            Number of branching levels (0 gives a single cylinder).
        length : float, µm
            Length of the trunk.
        diam : float, µm
            Diameter of the trunk.
        length_ratio : float
            Length of a daughter over that of its parent.
        diam_ratio : float
            Diameter of a daughter over that of its parent.
        rall : bool
            Use Rall's 3/2 rule, ``diam_ratio = 2**(-2/3)`` (then leave ``diam_ratio`` at 1).
        type : int
            SWC type code.

        Returns
        -------
        Morphology
        """
        if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or not 0 <= depth <= 16:
            raise InputError(f"must be a whole number from 0 to 16, got {depth!r}", key="depth")
        _positive(length=length, diam=diam, length_ratio=length_ratio, diam_ratio=diam_ratio)
        if rall:
            if diam_ratio != 1.0:
                raise InputError("give either rall=True or diam_ratio, not both", key="diam_ratio")
            diam_ratio = RALL_DIAM_RATIO
        g = nx.DiGraph()
        root = _add(g, None, (0.0, 0.0, 0.0), diam / 2, type)
        # Each entry: (parent sample, start point, direction angle, length, diameter, level)
        stack = [(root, np.zeros(3), 0.0, float(length), float(diam), 0)]
        while stack:
            parent, start, phi, seg, d, level = stack.pop()
            first = parent if level == 0 else _add(g, parent, start, d / 2, type)
            end = start + seg * np.array([np.cos(phi), np.sin(phi), 0.0])
            tip = _add(g, first, end, d / 2, type)
            if level < depth:
                spread = np.pi / 2 ** (level + 2)
                for sign in (1.0, -1.0):
                    stack.append((tip, end, phi + sign * spread, seg * length_ratio, d * diam_ratio, level + 1))
        return cls(g, name="binary_tree")

    @classmethod
    def soma_with_dendrites(cls, soma_diam=20.0, n_dendrites=3, dend_length=300.0, dend_diam=2.0,
                            axon_length=1000.0, axon_diam=1.0):
        """A spherical soma with straight dendrites and an axon (a "ball and sticks").

        The soma is a NeuroMorpho three-point soma (samples 0, 1, 2 along y), which NEURON
        and hhcable read as a sphere: a cylinder whose length is its diameter.  Dendrites
        (type 3) and the axon (type 2, along -x) start at the soma centre with their own
        diameter and attach to the soma's middle, ``soma(0.5)``; their lengths count from
        the centre.  Written with :func:`~hhcable.write_swc`, the file loads into NEURON's
        Import3d as the same cell.

        Parameters
        ----------
        soma_diam : float, µm
        n_dendrites : int
            Number of dendrites, spread over the +x half plane.
        dend_length, dend_diam : float, µm
        axon_length, axon_diam : float, µm
            An ``axon_length`` of 0 gives no axon.

        Returns
        -------
        Morphology
        """
        _positive(soma_diam=soma_diam, dend_length=dend_length, dend_diam=dend_diam, axon_diam=axon_diam)
        if isinstance(n_dendrites, bool) or not isinstance(n_dendrites, (int, np.integer)) or n_dendrites < 0:
            raise InputError(f"must be a whole number >= 0, got {n_dendrites!r}", key="n_dendrites")
        if not (np.isfinite(axon_length) and axon_length >= 0):
            raise InputError(f"must be >= 0 µm, got {axon_length!r}", key="axon_length")
        g = nx.DiGraph()
        r = soma_diam / 2
        centre = _add(g, None, (0.0, 0.0, 0.0), r, REGIONS["soma"])
        for sign in (-1.0, 1.0):
            _add(g, centre, (0.0, sign * r, 0.0), r, REGIONS["soma"])
        neurites = [(np.pi * ((k + 1) / (n_dendrites + 1) - 0.5), dend_length, dend_diam, REGIONS["dend"])
                    for k in range(n_dendrites)]
        if axon_length > 0:
            neurites.append((np.pi, axon_length, axon_diam, REGIONS["axon"]))
        for phi, length, diam, kind in neurites:
            start = _add(g, centre, (0.0, 0.0, 0.0), diam / 2, kind)
            _add(g, start, (length * np.cos(phi), length * np.sin(phi), 0.0), diam / 2, kind)
        return cls(g, name="soma_with_dendrites")

    # -- queries ------------------------------------------------------------------------
    def parent(self, sample):
        """The parent sample id of ``sample``, or None for the root."""
        preds = list(self.graph.predecessors(sample))
        return preds[0] if preds else None

    def segment_length(self, sample):
        """Length (µm) of the frustum between ``sample`` and its parent (0 for the root)."""
        p = self.parent(sample)
        if p is None:
            return 0.0
        a, b = self.graph.nodes[p], self.graph.nodes[sample]
        return float(np.sqrt((a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2 + (a["z"] - b["z"]) ** 2))

    @property
    def sectioning(self):
        """The sections and where each sample sits (:class:`hhcable.sections.Sectioning`)."""
        if self._sectioning is None:
            self._sectioning = _sections.build(self.graph, self.root, self.three_point_sphere)
        return self._sectioning

    @property
    def sections(self):
        """The cell's sections as NEURON's Import3d makes them, parents first (list of
        :class:`~hhcable.sections.Section`; see :mod:`hhcable.sections`)."""
        return self.sectioning.sections

    @property
    def soma(self):
        """How the soma is represented: ``"none"``, ``"sphere"`` (one point),
        ``"three-point"`` (NeuroMorpho's rule: a sphere too) or ``"cylinders"``."""
        return self.sectioning.soma

    def section(self, name):
        """The section called ``name`` (``"dend[3]"``; ``"soma"`` is ``"soma[0]"``), or with that index."""
        if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
            if not 0 <= name < len(self.sections):
                raise InputError(f"section {name} is out of range 0..{len(self.sections) - 1}", key="section")
            return self.sections[int(name)]
        if not isinstance(name, str):
            raise InputError(f"a section is a name like 'dend[3]' or an index, got {name!r}", key="section")
        wanted = name.replace(" ", "")
        wanted = wanted if wanted.endswith("]") else f"{wanted}[0]"
        for sec in self.sections:
            if sec.name == wanted:
                return sec
        kinds = sorted({s.name.split("[")[0] for s in self.sections})
        raise InputError(f"no section {name!r} in {self.name}; sections are named {kinds} with an index "
                         f"like 'dend[0]'", key="section")

    def is_unbranched(self):
        """True if every sample has at most one child."""
        return all(d <= 1 for _, d in self.graph.out_degree())

    def path_length(self, a, b):
        """Path distance (µm) along the tree between samples ``a`` and ``b``."""
        undirected = self.graph.to_undirected(as_view=True)
        path = nx.shortest_path(undirected, a, b)
        return float(sum(self.segment_length(u if self.parent(u) == v else v) for u, v in zip(path, path[1:])))

    def tips(self):
        """Ends of the neurites: sample ids with no children, soma samples excluded."""
        g = self.graph
        return sorted(n for n, d in g.out_degree() if d == 0 and g.nodes[n]["type"] != REGIONS["soma"])

    def children(self, sample):
        """Child sample ids of ``sample``, sorted."""
        return sorted(self.graph.successors(sample))

    def branch_order(self, sample):
        """Number of branch points (samples with two or more children, the soma excluded)
        between the root and ``sample`` (``sample`` itself not counted)."""
        g, order = self.graph, 0
        node = self.parent(sample)
        while node is not None:
            if g.out_degree(node) >= 2 and g.nodes[node]["type"] != REGIONS["soma"]:
                order += 1
            node = self.parent(node)
        return order

    def region_code(self, where):
        """The type code of region ``where``: a name in :attr:`regions` or a type code."""
        code = self.regions.get(where, where) if isinstance(where, str) else where
        if isinstance(code, bool) or not isinstance(code, (int, np.integer)):
            raise InputError(f"unknown region {where!r}; use 'all', {sorted(self.regions)} or a type code",
                             key="where")
        return code

    def region(self, where):
        """Sample ids in a region: ``"all"``, a name in :attr:`regions` or an SWC type code."""
        if where == "all":
            return sorted(self.graph.nodes)
        code = self.region_code(where)
        return sorted(n for n, d in self.graph.nodes(data=True) if d["type"] == code)


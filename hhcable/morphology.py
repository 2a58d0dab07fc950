"""Neuron shapes as trees of samples.

A :class:`Morphology` wraps a :class:`networkx.DiGraph` whose nodes are samples (SWC's
points) and whose edges run from parent to child.  Every node carries ``x, y, z`` and
``radius`` (µm) and ``type`` (an SWC type code: 1 soma, 2 axon, 3 basal dendrite,
4 apical dendrite, others kept as they are).  The shape between a sample and its parent is
a frustum (a truncated cone) whose type is the child's.

A Morphology knows nothing of channels or of how it is discretised.
"""

from dataclasses import dataclass

import networkx as nx
import numpy as np

from .errors import InputError

#: Region names accepted wherever a place is chosen by type, and their SWC type codes.
REGIONS = {"soma": 1, "axon": 2, "dend": 3, "apic": 4}


@dataclass(frozen=True)
class Section:
    """An unbranched run of frustums of one type.

    Attributes
    ----------
    index : int
        Position of the section in :attr:`Morphology.sections` (parents come first).
    samples : tuple of int
        Sample ids from the start point (shared with the parent section, or the root)
        to the end point.
    parent : int
        Index of the parent section, or -1 for sections that start at the root.
    type : int
        SWC type code of the section's frustums.
    """

    index: int
    samples: tuple
    parent: int
    type: int


class Morphology:
    """A neuron's shape: a tree of samples with positions and radii (µm).

    Parameters
    ----------
    graph : networkx.DiGraph
        Edges from parent to child; every node has ``x``, ``y``, ``z``, ``radius`` (µm)
        and ``type`` (int) attributes.  It must be a tree with at least two samples.
    name : str, optional
        A label used in messages (for example the file the shape came from).

    Raises
    ------
    InputError
        If the graph is not a single tree or a node lacks an attribute.
    """

    def __init__(self, graph, name="morphology"):
        self.name = name
        if graph.number_of_nodes() < 2:
            raise InputError("a morphology needs at least two samples", key=name)
        if not nx.is_arborescence(graph):
            raise InputError("the samples must form a single tree rooted at one sample", key=name)
        for node, data in graph.nodes(data=True):
            missing = {"x", "y", "z", "radius", "type"} - data.keys()
            if missing:
                raise InputError(f"sample {node} lacks {sorted(missing)}", key=name)
            if not data["radius"] > 0:
                raise InputError(f"sample {node} has radius {data['radius']}; radii must be > 0", key=name)
        self.graph = graph
        self.root = next(n for n, d in graph.in_degree() if d == 0)
        self._sections = None

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
    def sections(self):
        """Unbranched runs of frustums, parents before children (list of :class:`Section`).

        A section ends at a branch point, a tip, or where the type code changes.
        """
        if self._sections is None:
            self._sections = self._split_sections()
        return self._sections

    def _split_sections(self):
        g = self.graph
        sections = []
        # Each stack entry: (start sample, first child sample, parent section index)
        stack = [(self.root, c, -1) for c in reversed(sorted(g.successors(self.root)))]
        while stack:
            start, node, parent = stack.pop()
            kind = g.nodes[node]["type"]
            run = [start, node]
            while True:
                children = sorted(g.successors(node))
                if len(children) == 1 and g.nodes[children[0]]["type"] == kind:
                    node = children[0]
                    run.append(node)
                else:
                    break
            index = len(sections)
            sections.append(Section(index, tuple(run), parent, kind))
            for c in reversed(children):
                stack.append((node, c, index))
        return sections

    def is_unbranched(self):
        """True if every sample has at most one child."""
        return all(d <= 1 for _, d in self.graph.out_degree())

    def path_length(self, a, b):
        """Path distance (µm) along the tree between samples ``a`` and ``b``."""
        undirected = self.graph.to_undirected(as_view=True)
        path = nx.shortest_path(undirected, a, b)
        return float(sum(self.segment_length(u if self.parent(u) == v else v) for u, v in zip(path, path[1:])))

    def tips(self):
        """Sample ids with no children."""
        return sorted(n for n, d in self.graph.out_degree() if d == 0)

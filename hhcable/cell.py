"""A cell: a discretised morphology with passive properties and membrane mechanisms.

A Cell knows where its compartments are and what they carry; it knows nothing of how it is
solved (that is :mod:`hhcable.simulation`).
"""

from dataclasses import dataclass

import numpy as np

from .channels import Channel
from .discretize import discretize, segment_of
from .errors import InputError
from .morphology import Morphology
from .units import UM_PER_CM
from .validate import (CAPACITANCE_UF_CM2, D_LAMBDA, LENGTH_UM, RESISTIVITY_OHM_CM, TEMPERATURE_C, Limits, integer,
                       is_number, morphology_size, real)

#: d_lambda used when neither max_segment nor d_lambda is given (NEURON's usual choice).
DEFAULT_D_LAMBDA = 0.1
#: NEURON's limits on the extracellular mechanism's parameters (its ``extcell.cpp``).
XRAXIAL_MOHM_CM = Limits(1e-9, 1e15, "MΩ/cm", "NEURON's range for xraxial")
XG_S_CM2 = Limits(0.0, 1e15, "S/cm²", "NEURON's range for xg")
XC_UF_CM2 = Limits(0.0, 1e15, "µF/cm²", "NEURON's range for xc")


def _checked_types(loc):
    """``loc`` (a Location) if its numbers have the right types: a string, a bool or a
    truncated float never locates."""
    for key, check in (("x", is_number), ("swc_id", integer), ("node", integer)):
        if getattr(loc, key) is not None:
            check(getattr(loc, key), f"at.{key}")
    return loc


@dataclass(frozen=True)
class Location:
    """A place on a cell.

    Give one of:

    x : float
        Fraction (0–1) of the path from the root to the farthest tip: on an unbranched
        cable, the fraction of its length from its root end.
    section : str or int, with x (default 0.5)
        NEURON's ``sec(x)``: a section by its Import3d name (``"dend[3]"``, ``"soma"``) or
        its index in :attr:`Morphology.sections`, and the fraction ``x`` of its length from
        its 0 end.  ``x = 0`` is the node it hangs from, ``x = 1`` its 1 end, and any other
        ``x`` the segment holding it (``floor(x nseg)``, as NEURON).
    swc_id : int
        The compartment holding this SWC sample.
    node : int
        A node index (see :attr:`Cell.compartments`).

    Examples
    --------
    >>> Location(section="dend[2]", x=0.5)
    Location(x=0.5, swc_id=None, node=None, section='dend[2]')
    """

    x: float = None
    swc_id: int = None
    node: int = None
    section: object = None

    def __post_init__(self):
        if self.section is not None and self.x is None:
            object.__setattr__(self, "x", 0.5)
        given = [k for k in ("x", "swc_id", "node") if getattr(self, k) is not None]
        if len(given) != 1:
            raise InputError(f"a location needs exactly one of x, section (with x), swc_id, node; got "
                             f"{given or 'none'}", key="at")


#: The keys a location table may have.
LOCATION_KEYS = ("x", "section", "swc_id", "node")


def as_location(at):
    """Turn a float (x), a dict (keys :data:`LOCATION_KEYS`) or a Location into a Location."""
    if isinstance(at, Location):
        return at
    if isinstance(at, dict):
        unknown = set(at) - set(LOCATION_KEYS)
        if unknown:
            raise InputError(f"unknown location key(s) {sorted(unknown)}; use x, section and x, swc_id or node",
                             key="at")
        return Location(**at)
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        return Location(x=float(at))
    raise InputError(f"a location is a fraction x or {{x = ...}} / {{section = \"dend[0]\", x = 0.5}} / "
                     f"{{swc_id = ...}}, got {at!r}", key="at")


class Cell:
    """A discretised neuron with membrane properties.

    Parameters
    ----------
    morphology : Morphology
        The shape.
    cm : float, µF/cm²
        Specific membrane capacitance (default 1).
    Ra : float, Ω·cm
        Axial resistivity (default 35.4).
    celsius : float, °C
        Temperature, which scales the channel kinetics (default 6.3).
    max_segment : float, µm, optional
        Longest compartment allowed.
    d_lambda : float, optional
        Longest compartment as a fraction of the 100 Hz length constant (NEURON's rule).
        If neither rule is given, ``d_lambda = 0.1``.

    Examples
    --------
    >>> import hhcable as hc
    >>> cell = hc.Cell(hc.Morphology.cable(length=1000.0, diam=1.0), max_segment=10.0)
    >>> cell.n_compartments
    100
    """

    def __init__(self, morphology, cm=1.0, Ra=35.4, celsius=6.3, max_segment=None, d_lambda=None):
        if not isinstance(morphology, Morphology):
            raise InputError(f"expected a Morphology, got {type(morphology).__name__}", key="morphology")
        if max_segment is None and d_lambda is None:
            d_lambda = DEFAULT_D_LAMBDA
        cm = real(cm, "cm", CAPACITANCE_UF_CM2)
        Ra = real(Ra, "Ra", RESISTIVITY_OHM_CM)
        celsius = real(celsius, "celsius", TEMPERATURE_C)
        if max_segment is not None:
            max_segment = real(max_segment, "max_segment", LENGTH_UM, positive=True)
        if d_lambda is not None:
            d_lambda = real(d_lambda, "d_lambda", D_LAMBDA)
        morphology_size(morphology, Ra, cm, max_segment, d_lambda)  # before discretize allocates
        self.morphology = morphology
        self.cm, self.Ra, self.celsius = cm, Ra, celsius
        self.compartments = discretize(morphology, Ra=Ra, cm=cm, max_segment=max_segment, d_lambda=d_lambda)
        self.node_cm = np.full(self.compartments.n_nodes, cm)
        self.node_Ra = np.full(self.compartments.n_nodes, Ra)
        self.mechanisms = []
        self.layer = None  # ExtracellularLayer once insert_extracellular is called
        self._main_path = None

    @property
    def n_compartments(self):
        """Number of compartments with membrane."""
        return self.compartments.n_compartments

    def insert(self, mechanism, where="all"):
        """Insert a mechanism into part of the cell.

        Parameters
        ----------
        mechanism : Channel
            For example ``hc.HH()`` or ``hc.Passive(g=1e-4, e=-65)``.  The same object may be
            inserted in several places and cells: it is only read.
        where : str or int, optional
            ``"all"``, a region (``"soma"``, ``"axon"``, ``"dend"``, ``"apic"``) or an SWC
            type code.

        Returns
        -------
        Cell
            The cell itself, so inserts can be chained.
        """
        if not isinstance(mechanism, Channel):
            raise InputError(f"expected a Channel such as hc.HH(), got {mechanism!r}", key="mechanism")
        nodes = self.nodes_where(where)
        for other, other_nodes in self.mechanisms:
            if other.name == mechanism.name and np.intersect1d(nodes, other_nodes).size:
                raise InputError(f"'{mechanism.name}' is already inserted in part of {where!r}", key="where")
        self.mechanisms.append((mechanism, nodes))
        return self

    def set_cm(self, cm, where="all"):
        """Set the specific membrane capacitance (µF/cm²) in a region (see :meth:`insert`).

        ``cm`` given to the constructor holds wherever this is not called; :attr:`node_cm`
        holds every node's value.  Returns the cell.
        """
        self.node_cm[self.nodes_where(where)] = real(cm, "cm", CAPACITANCE_UF_CM2)
        return self

    def set_Ra(self, Ra, where="all"):
        """Set the axial resistivity (Ω·cm) of the sections in a region, as NEURON's
        per-section ``Ra``; call it before making a Simulation.

        Every axial conductance joins two nodes of one section (sections end in a zero-area
        node), so it scales exactly.  :attr:`node_Ra` holds each node's section's value.
        Returns the cell.
        """
        Ra = real(Ra, "Ra", RESISTIVITY_OHM_CM)
        comp = self.compartments
        inside = comp.section >= 0
        if where != "all":
            inside &= comp.type == self.morphology.region_code(where)
        nodes = np.flatnonzero(inside)
        if nodes.size == 0:
            raise InputError(f"region {where!r} holds no compartments of this cell", key="where")
        comp.g_axial[nodes] *= self.node_Ra[nodes] / Ra
        self.node_Ra[nodes] = Ra
        return self

    def insert_extracellular(self, xraxial=1e9, xg=1e9, xc=0.0, where="all"):
        """Give part of the cell an extracellular layer, as NEURON's ``extracellular`` mechanism.

        One layer per compartment (NEURON's ``nlayer_extracellular`` 2 with its outer layer
        tied to ``e_extracellular``: ``xraxial[1] = 1e9, xg[1] = 1e10, xc[1] = 0``, as the MRG
        model uses it).  Its potential ``vext`` is a second unknown of every node that has the
        layer; the intracellular potential is ``v + vext``.  Call again with another
        ``where`` for other values there (a later call wins where they overlap).  The
        section-end nodes (no membrane) get the layer of their section, with no ``xg`` nor
        ``xc``, as in NEURON.  Where the cell has no layer, its outside potential is the
        applied ``e_extracellular`` itself, and a layer ends sealed there (NEURON does not
        ground ``xraxial`` where a section without the mechanism joins).

        Parameters
        ----------
        xraxial : float, MΩ/cm
            Axial resistance of the layer per unit length.
        xg : float, S/cm²
            Conductance from the layer to the applied potential ``e_extracellular``.
        xc : float, µF/cm²
            Capacitance from the layer to ``e_extracellular``.
        where : str or int, optional
            As in :meth:`insert`.

        Returns
        -------
        Cell
        """
        values = (real(xraxial, "xraxial", XRAXIAL_MOHM_CM), real(xg, "xg", XG_S_CM2), real(xc, "xc", XC_UF_CM2))
        nodes = self.nodes_where(where)
        if self.layer is None:
            self.layer = ExtracellularLayer(self.compartments.n_nodes)
        self.layer.has[nodes] = True
        for array, value in zip((self.layer.xraxial, self.layer.xg, self.layer.xc), values):
            array[nodes] = value
        return self

    def layer_conductance(self):
        """Axial conductance (µS) of the extracellular layer between each node and its parent.

        NEURON's rule (``ext_con_coef``): each node with membrane has a half-segment
        resistance ``xraxial · (segment length / 2)`` on either side; two nodes of one section
        are joined through both halves, a section's first node to the node it hangs from
        through its own half only, and the zero-area 1-end node to the last one through that
        last node's half.  Zero where either node lacks the layer (sealed).
        """
        comp, layer = self.compartments, self.layer
        n = comp.n_nodes
        if layer is None:
            return np.zeros(n)
        has, xr = self.layer_nodes(), layer.xraxial_of_sections(comp)
        half = _half_segments(comp)
        child = np.flatnonzero(comp.parent >= 0)
        p = comp.parent[child]
        same = comp.section[p] == comp.section[child]
        res = (1.0 / UM_PER_CM) * (xr[child] * half[child] + np.where(same, xr[p] * half[p], 0.0))  # MΩ
        g = np.zeros(n)
        joined = has[child] & has[p]
        g[child[joined]] = 1.0 / res[joined]
        return g

    def layer_nodes(self):
        """Mask of the nodes with the extracellular layer, the zero-area ones included
        (a section's 1-end node has its section's layer, the root node its first segment's)."""
        comp = self.compartments
        if self.layer is None:
            return np.zeros(comp.n_nodes, bool)
        has = self.layer.has.copy()
        ends = np.flatnonzero(comp.area == 0)
        has[ends] = has[_owner(comp, ends)]
        return has

    def nodes_where(self, where):
        """Indices of the compartments (area > 0) in a region: see :meth:`insert`."""
        comp = self.compartments
        has_area = comp.area > 0
        if where == "all":
            mask = has_area
        else:
            mask = has_area & (comp.type == self.morphology.region_code(where))
        nodes = np.flatnonzero(mask)
        if nodes.size == 0:
            raise InputError(f"region {where!r} holds no compartments of this cell", key="where")
        return nodes

    def main_path(self):
        """Nodes from the root to the farthest tip, in order."""
        if self._main_path is None:
            comp = self.compartments
            tip = int(np.argmax(comp.distance))
            self._main_path = comp._ancestors(tip)[::-1]
        return self._main_path

    def locate(self, at):
        """The node index of a location (a float x, a dict, or a :class:`Location`)."""
        loc = _checked_types(as_location(at))
        comp = self.compartments
        if loc.node is not None:
            if not 0 <= loc.node < comp.n_nodes:
                raise InputError(f"node {loc.node} is out of range 0..{comp.n_nodes - 1}", key="at.node")
            return int(loc.node)
        if loc.swc_id is not None:
            if loc.swc_id not in comp.sample_node:
                raise InputError(f"no sample with id {loc.swc_id} in {self.morphology.name}", key="at.swc_id")
            return comp.sample_node[loc.swc_id]
        x = loc.x
        if isinstance(x, bool) or not isinstance(x, (int, float, np.floating)) or not (
                np.isfinite(x) and 0.0 <= x <= 1.0):
            raise InputError(f"x must lie in [0, 1], got {x!r}", key="at.x")
        if loc.section is not None:
            nodes = comp.section_nodes[_wrap_section(self.morphology, loc.section).index]
            if x == 0.0:
                return int(nodes[0])
            return int(nodes[-1]) if x == 1.0 else int(nodes[1 + segment_of(x, len(nodes) - 2)])
        path = self.main_path()
        if x == 0.0:
            return int(path[0])
        if x == 1.0:
            return int(path[-1])
        target = x * comp.distance[path[-1]]
        inner = path[comp.area[path] > 0]
        # The segment holding the point is the one with the nearest centre; a point on a
        # boundary goes to the farther segment, as in NEURON.
        offset = np.abs(comp.distance[inner] - target - 1e-9 * comp.distance[path[-1]])
        return int(inner[np.argmin(offset)])


@dataclass
class ExtracellularLayer:
    """Per-node parameters of a cell's extracellular layer (see :meth:`Cell.insert_extracellular`).

    Attributes
    ----------
    has : ndarray of bool
        Nodes with membrane that have the layer.
    xraxial : ndarray, MΩ/cm
    xg : ndarray, S/cm²
    xc : ndarray, µF/cm²
        The layer's parameters (NaN where it is absent; zero-area nodes carry none).
    """

    has: np.ndarray
    xraxial: np.ndarray
    xg: np.ndarray
    xc: np.ndarray

    def __init__(self, n):
        self.has = np.zeros(n, bool)
        self.xraxial, self.xg, self.xc = (np.full(n, np.nan) for _ in range(3))

    def xraxial_of_sections(self, comp):
        """xraxial (MΩ/cm) of every node, a zero-area node taking its owner's value."""
        xr = self.xraxial.copy()
        ends = np.flatnonzero(comp.area == 0)
        xr[ends] = xr[_owner(comp, ends)]
        return xr


def _owner(comp, ends):
    """The node with membrane whose layer a zero-area node takes: a section's 1-end node its
    last segment (its parent); the root node the first segment of the root section (node 1)."""
    return np.where(comp.parent[ends] >= 0, comp.parent[ends], min(1, comp.n_nodes - 1))


def _half_segments(comp):
    """Half the length (µm) of each node's segment (0 for the zero-area nodes)."""
    first = np.array([nodes[1] for nodes in comp.section_nodes])
    # A section's segments are equal: its length is twice the first centre's distance from its start.
    seg = 2 * (comp.distance[first] - comp.distance[comp.parent[first]])
    return np.where(comp.area > 0, 0.5 * seg[np.maximum(comp.section, 0)], 0.0)


def _wrap_section(morphology, name):
    """``morphology.section(name)`` with the error keyed as a location's."""
    try:
        return morphology.section(name)
    except InputError as err:
        raise InputError(err.message, key="at.section") from None

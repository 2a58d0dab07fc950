"""Myelinated fibres: nodes of Ranvier joined by internodes wrapped in myelin.

Two builders, each returning a :class:`Fibre` (the cell, its nodes of Ranvier and the
names of its regions):

:func:`myelinated_fibre`
    A single cable.  Nodes carry active channels (HH by default, the teaching case);
    internodes carry the myelin as their membrane: the axolemma and the ``2 n`` membranes of
    ``n`` lamellae in series, so their capacitance and leak are the membrane's divided by
    ``1 + 2 n``.  ``n`` follows from the g-ratio and the thickness of one lamella.
:func:`mrg_fibre`
    The double cable of McIntyre, Richardson & Grill (2002), J Neurophysiol 87:995
    (ModelDB 3810): node, MYSA, FLUT and STIN compartments with the published geometry
    interpolated over fibre diameter, the MRG node channels (:class:`~hhcable.channels.MRGNode`)
    and the periaxonal space and myelin as an extracellular layer.

:func:`node_velocity` measures the conduction velocity from the spike's arrival at the
nodes.  Lengths and diameters are in µm, as everywhere in hhcable.
"""

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from .cell import Cell, Location
from .channels import HH, MRGNode, Passive
from .errors import InputError
from .morphology import Morphology
from .units import M_S_PER_UM_MS, MOHM_PER_OHM_CM_PER_UM, UM_PER_CM
from .validate import integer, real

__all__ = ["Fibre", "myelinated_fibre", "mrg_fibre", "mrg_geometry", "node_velocity", "lamellae", "node_hh",
           "LAMELLA_THICKNESS_UM", "INTERNODE_PER_DIAMETER", "MRG_TABLE"]

#: Radial thickness (µm) of one lamella (one turn of the Schwann cell: two membranes and the
#: cytoplasmic and extracellular appositions): the period of compact peripheral myelin
#: measured by X-ray diffraction, about 17.5 nm (Kirschner & Caspar 1975; 15.5–16 nm in the
#: CNS).  MRG's table implies 11–14 nm (its lamella counts over its myelin thicknesses).
LAMELLA_THICKNESS_UM = 0.0175
#: Internode length per fibre diameter: Hursh (1939) and Rushton (1951), L ≈ 100 D.
INTERNODE_PER_DIAMETER = 100.0
#: Leak conductance (S/cm²) of one membrane of the myelin: MRG's per lamella membrane.
MYELIN_G_S_CM2 = 0.001
#: The default node: HH's kinetics with this many times the squid axon's channel densities
#: (rest and spike shape stay HH's).  Nodes of Ranvier carry an order of magnitude more
#: sodium channels per area than the squid axon (saxitoxin binding: Ritchie & Rogart 1977);
#: with squid densities a 1 µm node cannot charge its internode and conduction fails.
NODE_DENSITY_FACTOR = 10.0
#: Type codes of the regions of a fibre (beside SWC's 1-4).
NODE, INTERNODE, DEMYELINATED = 7, 8, 9
MYSA, FLUT, STIN = 8, 9, 10
#: MΩ/cm of a layer of resistivity 1 Ω·cm and cross-section 1 µm² (NEURON's xraxial unit).
MOHM_CM_PER_OHM_CM_UM2 = UM_PER_CM * MOHM_PER_OHM_CM_PER_UM

#: McIntyre, Richardson & Grill (2002), Table 1 / ModelDB 3810 (``dependent_var``): per fibre
#: diameter (µm) the g-ratio, axon, node, MYSA and FLUT diameters (µm), node-to-node
#: distance (µm), FLUT length (µm) and number of myelin lamellae.
MRG_TABLE = {
    "fiber_diam": (5.7, 7.3, 8.7, 10.0, 11.5, 12.8, 14.0, 15.0, 16.0),
    "g_ratio": (0.605, 0.630, 0.661, 0.690, 0.700, 0.719, 0.739, 0.767, 0.791),
    "axon_diam": (3.4, 4.6, 5.8, 6.9, 8.1, 9.2, 10.4, 11.5, 12.7),
    "node_diam": (1.9, 2.4, 2.8, 3.3, 3.7, 4.2, 4.7, 5.0, 5.5),
    "mysa_diam": (1.9, 2.4, 2.8, 3.3, 3.7, 4.2, 4.7, 5.0, 5.5),
    "flut_diam": (3.4, 4.6, 5.8, 6.9, 8.1, 9.2, 10.4, 11.5, 12.7),
    "node_to_node": (500.0, 750.0, 1000.0, 1150.0, 1250.0, 1350.0, 1400.0, 1450.0, 1500.0),
    "flut_length": (35.0, 38.0, 40.0, 46.0, 50.0, 54.0, 56.0, 58.0, 60.0),
    "lamellae": (80.0, 100.0, 110.0, 120.0, 130.0, 135.0, 140.0, 145.0, 150.0),
}
#: MRG's fixed values: node and MYSA lengths (µm), periaxonal widths (µm) at the MYSA,
#: FLUT and STIN, axoplasmic resistivity (Ω·cm), per lamella membrane capacitance (µF/cm²)
#: and conductance (S/cm²), node and axolemma capacitance (µF/cm²), MYSA and FLUT/STIN
#: axolemma leak (S/cm²), rest (mV), and STIN compartments per internode.
MRG = {"node_length": 1.0, "mysa_length": 3.0, "mysa_space": 0.002, "flut_space": 0.004,
       "stin_space": 0.004, "Ra": 70.0, "myelin_cm": 0.1, "myelin_g": 0.001, "cm": 2.0,
       "mysa_g": 0.001, "flut_stin_g": 0.0001, "v_rest": -80.0, "stin_segments": 6}
#: NEURON's extracellular values for "no layer here" at a node (MRG: xg 1e10 S/cm², xc 0).
NODE_XG_S_CM2 = 1e10


@dataclass
class Fibre:
    """A myelinated fibre built by :func:`myelinated_fibre` or :func:`mrg_fibre`.

    Attributes
    ----------
    cell : Cell
        The fibre, with its channels, capacitances and layers.
    nodes : ndarray of int
        The compartment (node index of :attr:`Cell.compartments`) of each node of Ranvier,
        in order along the fibre (each node of Ranvier is one compartment).
    regions : dict
        Region name -> type code (``cell.insert(..., where="node")``).
    geometry : dict
        The numbers it was built from (µm; lamellae as counts; ``v_rest`` in mV).
    """

    cell: Cell
    nodes: np.ndarray
    regions: dict
    geometry: dict = field(default_factory=dict)

    @property
    def node_positions(self):
        """Distance (µm) of each node of Ranvier from the fibre's start."""
        return self.cell.compartments.distance[self.nodes]

    def node(self, k):
        """The :class:`~hhcable.Location` of node of Ranvier ``k`` (negative counts from the end)."""
        return Location(node=int(self.nodes[k]))


def lamellae(fiber_diam, g_ratio, thickness=LAMELLA_THICKNESS_UM):
    """Number of myelin lamellae around an axon: the myelin's thickness over one lamella's.

    Parameters
    ----------
    fiber_diam : float, µm
        Outer diameter of the fibre, myelin included.
    g_ratio : float
        Axon diameter over fibre diameter (0 < g <= 1).
    thickness : float, µm
        Radial thickness of one lamella (default :data:`LAMELLA_THICKNESS_UM`).

    Returns
    -------
    float
        ``fiber_diam (1 - g_ratio) / (2 thickness)``.
    """
    return fiber_diam * (1.0 - g_ratio) / (2.0 * thickness)


def _chain(segments, regions):
    """A straight fibre along x from ``(length, diam, type)`` runs; a Morphology with ``regions``."""
    g = nx.DiGraph()
    x = 0.0
    g.add_node(0, x=0.0, y=0.0, z=0.0, radius=segments[0][1] / 2, type=segments[0][2])
    for length, diam, kind in segments:
        x += length
        k = g.number_of_nodes()
        g.add_node(k, x=x, y=0.0, z=0.0, radius=diam / 2, type=kind)
        g.add_edge(k - 1, k)
    return Morphology(g, name="fibre", regions=regions)


def node_hh(use_table=True):
    """The default node channel of :func:`myelinated_fibre`: HH with every density
    (gnabar, gkbar, gl) :data:`NODE_DENSITY_FACTOR` times the squid axon's."""
    d = {k: HH.parameters[k].default * NODE_DENSITY_FACTOR for k in ("gnabar", "gkbar", "gl")}
    return HH(use_table=use_table, **d)


def _node_compartments(cell):
    nodes = cell.nodes_where("node")
    return nodes[np.argsort(cell.compartments.distance[nodes])]


def _indices(values, n, key):
    out = sorted({integer(v, key, low=0, high=n - 1) for v in values}) if values is not None else []
    return out


def myelinated_fibre(diam=10.0, n_nodes=21, g_ratio=0.7, node_length=1.0, internode_length=None,
                     node_channel=None, celsius=6.3, cm=1.0, Ra=35.4, myelin_g=MYELIN_G_S_CM2, v_rest=-65.0,
                     lamella_thickness=LAMELLA_THICKNESS_UM, internode_segments=9,
                     demyelinated=(), lamellae_left=1.0):
    """A myelinated fibre as a single cable: nodes of Ranvier and myelinated internodes.

    The axon has one diameter, ``g_ratio * diam``, at nodes and internodes.  Nodes (one
    compartment each) carry ``node_channel``.  An internode's membrane is the axolemma and
    the two membranes of each of its ``n`` lamellae in series, each membrane with specific
    capacitance ``cm`` and leak ``myelin_g``: so ``cm / (1 + 2n)`` and ``myelin_g / (1 + 2n)``
    (a passive leak reversing at ``v_rest``), where ``n = diam (1 - g_ratio) /
    (2 lamella_thickness)`` (:func:`lamellae`).

    Parameters
    ----------
    diam : float, µm
        Fibre diameter, myelin included (default 10).
    n_nodes : int
        Nodes of Ranvier (default 21); the fibre starts and ends with a node.
    g_ratio : float
        Axon diameter over fibre diameter (default 0.7).
    node_length : float, µm
        Length of a node (default 1).
    internode_length : float, µm, optional
        Length of an internode; default :data:`INTERNODE_PER_DIAMETER` × ``diam``.
    node_channel : Channel, optional
        The nodes' channels (default :func:`node_hh`, HH kinetics with ten times the squid
        densities; ``hc.MRGNode()`` for a mammalian node at 37 °C).
    celsius : float, °C
        Temperature (default 6.3, HH's).
    cm : float, µF/cm²
        Capacitance of one membrane (nodes; myelin membranes; default 1).
    Ra : float, Ω·cm
        Axoplasmic resistivity (default 35.4).
    myelin_g : float, S/cm²
        Leak of one membrane of the myelin (default 0.001, MRG's per lamella membrane).
    v_rest : float, mV
        Reversal potential of the internodes' leak (default -65, HH's rest).
    lamella_thickness : float, µm
        Radial thickness of one lamella (default :data:`LAMELLA_THICKNESS_UM`).
    internode_segments : int
        Compartments per internode (default 9).
    demyelinated : sequence of int
        Internodes (0 to ``n_nodes - 2``, from the start) that keep only ``lamellae_left``.
    lamellae_left : float
        Fraction (0–1) of the lamellae the demyelinated internodes keep: 0 leaves the bare
        axolemma (``cm`` and ``myelin_g``).

    Returns
    -------
    Fibre
        Regions ``"node"``, ``"internode"`` and, if any, ``"demyelinated"``.

    Examples
    --------
    >>> import hhcable as hc
    >>> fibre = hc.myelinated_fibre(diam=10.0, n_nodes=5)
    >>> len(fibre.nodes), fibre.geometry["internode_length"]
    (5, 1000.0)
    """
    diam = real(diam, "diam", positive=True)
    n_nodes = integer(n_nodes, "n_nodes", low=2, high=100_000)
    g_ratio = real(g_ratio, "g_ratio", positive=True)
    if g_ratio > 1.0:
        raise InputError(f"must lie in (0, 1], got {g_ratio!r}", key="g_ratio")
    node_length = real(node_length, "node_length", positive=True)
    internode_length = INTERNODE_PER_DIAMETER * diam if internode_length is None else real(
        internode_length, "internode_length", positive=True)
    lamella_thickness = real(lamella_thickness, "lamella_thickness", positive=True)
    internode_segments = integer(internode_segments, "internode_segments", low=1, high=10_000)
    myelin_g = real(myelin_g, "myelin_g")
    v_rest = real(v_rest, "v_rest")
    lamellae_left = real(lamellae_left, "lamellae_left")
    if not 0.0 <= lamellae_left <= 1.0:
        raise InputError(f"must lie in [0, 1], got {lamellae_left!r}", key="lamellae_left")
    demyelinated = _indices(demyelinated, n_nodes - 1, "demyelinated")
    seg = internode_length / internode_segments
    if node_length > seg:
        raise InputError(f"{node_length} µm nodes are longer than the internode's compartments ({seg:g} µm); "
                         "use fewer internode_segments", key="internode_segments")
    axon = g_ratio * diam
    regions = {"node": NODE, "internode": INTERNODE}
    if demyelinated:
        regions["demyelinated"] = DEMYELINATED
    runs = [(node_length, axon, NODE)]
    for k in range(n_nodes - 1):
        runs += [(internode_length, axon, DEMYELINATED if k in demyelinated else INTERNODE), (node_length, axon, NODE)]
    cell = Cell(_chain(runs, regions), cm=cm, Ra=Ra, celsius=celsius, max_segment=seg)
    cell.insert(node_hh() if node_channel is None else node_channel, where="node")
    n = lamellae(diam, g_ratio, lamella_thickness)
    for region, count in (("internode", n), ("demyelinated", n * lamellae_left)):
        if region in regions and (region != "internode" or len(demyelinated) < n_nodes - 1):
            membranes = 1.0 + 2.0 * count
            cell.set_cm(cm / membranes, where=region)
            cell.insert(Passive(g=myelin_g / membranes, e=v_rest), where=region)
    geometry = {"fiber_diam": diam, "axon_diam": axon, "g_ratio": g_ratio, "node_length": node_length,
                "internode_length": internode_length, "node_to_node": internode_length + node_length,
                "lamellae": n, "lamellae_demyelinated": n * lamellae_left if demyelinated else None, "v_rest": v_rest}
    return Fibre(cell, _node_compartments(cell), regions, geometry)


def mrg_geometry(diam):
    """MRG's geometry for fibre diameter ``diam`` (µm): :data:`MRG_TABLE` interpolated linearly.

    Returns
    -------
    dict
        The table's keys (µm; ``lamellae`` a count) and ``stin_length`` (µm, one of the six
        STIN compartments: what the node-to-node distance leaves after the node, two MYSAs
        and two FLUTs).

    Raises
    ------
    InputError
        Outside the table's 5.7–16 µm.
    """
    diam = real(diam, "diam", positive=True)
    table = MRG_TABLE["fiber_diam"]
    if not table[0] <= diam <= table[-1]:
        raise InputError(f"{diam!r} µm is outside MRG's table ({table[0]}–{table[-1]} µm)", key="diam")
    geo = {key: float(np.interp(diam, table, values)) for key, values in MRG_TABLE.items()}
    geo["stin_length"] = (geo["node_to_node"] - MRG["node_length"] - 2 * MRG["mysa_length"]
                          - 2 * geo["flut_length"]) / MRG["stin_segments"]
    return geo


def _periaxonal(Ra, diam, width):
    """xraxial (MΩ/cm) of the periaxonal annulus of ``width`` (µm) around ``diam`` (µm)."""
    area = np.pi * ((diam / 2 + width) ** 2 - (diam / 2) ** 2)
    return Ra / area * MOHM_CM_PER_OHM_CM_UM2


def mrg_fibre(diam=10.0, n_nodes=21, celsius=37.0, node_channel=None, layer=True):
    """The MRG double-cable fibre (McIntyre, Richardson & Grill 2002).

    Each internode is a MYSA, a FLUT, six STIN compartments, a FLUT and a MYSA, with
    :func:`mrg_geometry` (the published table interpolated over ``diam``).  As the published
    model: axoplasm 70 Ω·cm; nodes with :class:`~hhcable.channels.MRGNode` and 2 µF/cm²;
    the internodal axolemma passive (2 µF/cm², 1 mS/cm² at MYSA, 0.1 mS/cm² at FLUT and
    STIN, reversing at -80 mV); the periaxonal space (2 nm wide at MYSA, 4 nm at FLUT and
    STIN) as the layer's axial resistance and the myelin (``2 n`` membranes of 0.1 µF/cm²
    and 1 mS/cm² in series) from the layer to the outside; nodes tied to the outside.

    The published model draws MYSA, FLUT and STIN with the fibre's diameter and scales Ra,
    cm and the leak by their true diameters; here every compartment is drawn with the node's
    diameter and scaled the same way (electrically the same cable, and no diameter steps,
    whose annuli would add membrane).

    Parameters
    ----------
    diam : float, µm
        Fibre diameter, 5.7 to 16 (default 10).
    n_nodes : int
        Nodes of Ranvier (default 21, as published).
    celsius : float, °C
        Temperature (default 37, as published).
    node_channel : Channel, optional
        The nodes' channels (default ``MRGNode()``).
    layer : bool
        Insert the periaxonal/myelin layer (default; needs ``Cell.insert_extracellular``).
        False gives the single-cable reduction (myelin and periaxonal space ignored).

    Returns
    -------
    Fibre
        Regions ``"node"``, ``"mysa"``, ``"flut"`` and ``"stin"``.
    """
    geo = mrg_geometry(diam)
    n_nodes = integer(n_nodes, "n_nodes", low=2, high=100_000)
    d = geo["node_diam"]
    regions = {"node": NODE, "mysa": MYSA, "flut": FLUT, "stin": STIN}
    stin = MRG["stin_segments"] * geo["stin_length"]
    runs = [(MRG["node_length"], d, NODE)]
    for _ in range(n_nodes - 1):
        runs += [(MRG["mysa_length"], d, MYSA), (geo["flut_length"], d, FLUT), (stin, d, STIN),
                 (geo["flut_length"], d, FLUT), (MRG["mysa_length"], d, MYSA), (MRG["node_length"], d, NODE)]
    cell = Cell(_chain(runs, regions), cm=MRG["cm"], Ra=MRG["Ra"], celsius=celsius,
                max_segment=geo["stin_length"] * (1 + 1e-9))
    cell.insert(MRGNode() if node_channel is None else node_channel, where="node")
    true_diam = {"mysa": geo["mysa_diam"], "flut": geo["flut_diam"], "stin": geo["axon_diam"]}
    leak = {"mysa": MRG["mysa_g"], "flut": MRG["flut_stin_g"], "stin": MRG["flut_stin_g"]}
    for region, dt in true_diam.items():
        scale = dt / d  # membrane per unit of drawn membrane
        cell.set_Ra(MRG["Ra"] / scale**2, where=region)
        cell.set_cm(MRG["cm"] * scale, where=region)
        cell.insert(Passive(g=leak[region] * scale, e=MRG["v_rest"]), where=region)
    if layer:
        membranes = 2.0 * geo["lamellae"]
        outer = geo["fiber_diam"] / d  # myelin's outer surface per unit of drawn membrane
        cell.insert_extracellular(xraxial=_periaxonal(MRG["Ra"], geo["node_diam"], MRG["mysa_space"]),
                                  xg=NODE_XG_S_CM2, xc=0.0, where="node")
        for region, width in (("mysa", MRG["mysa_space"]), ("flut", MRG["flut_space"]), ("stin", MRG["stin_space"])):
            cell.insert_extracellular(xraxial=_periaxonal(MRG["Ra"], true_diam[region], width),
                                      xg=MRG["myelin_g"] / membranes * outer,
                                      xc=MRG["myelin_cm"] / membranes * outer, where=region)
    geo["fiber_diam"], geo["v_rest"] = float(diam), MRG["v_rest"]
    return Fibre(cell, _node_compartments(cell), regions, geo)


def node_velocity(result, nodes, skip=None):
    """Conduction velocity from the spike's arrival at the nodes of Ranvier.

    The least-squares slope of node position against first-crossing time over the
    interior nodes: ``skip`` nodes at each end are left out (the stimulated end and the
    sealed far end change the spike's arrival over several internodes, as a spike spans
    many of them).  The run must have recorded crossings
    (``Simulation.record_crossings``).

    Parameters
    ----------
    result : Result
    nodes : Fibre or array of int
        The fibre, or the compartments of its nodes in order.
    skip : int, optional
        Nodes left out at each end (default: a quarter of them, so the middle half is fitted).

    Returns
    -------
    dict
        ``cv_m_s`` (m/s), ``path_um`` (µm between the first and last node fitted),
        ``n_points`` (nodes fitted) and ``times_ms`` (arrival at every node, NaN where
        the spike did not arrive).

    Raises
    ------
    InputError
        Without crossings, with fewer than two nodes left to fit, or if the spike did not
        reach every node fitted (a block).
    """
    if result.crossings is None:
        raise InputError("the run did not record crossings; call Simulation.record_crossings()", key="velocity")
    nodes = np.asarray(nodes.nodes if isinstance(nodes, Fibre) else nodes, dtype=int)
    skip = len(nodes) // 4 if skip is None else integer(skip, "skip", low=0)
    inner = nodes[skip:len(nodes) - skip]
    if inner.size < 2:
        raise InputError(f"{len(nodes)} nodes leave {inner.size} to fit after skipping {skip} at each end",
                         key="skip")
    times = result.crossings[inner]
    missing = int(np.count_nonzero(~np.isfinite(times)))
    if missing:
        raise InputError(f"the spike did not reach {missing} of the {inner.size} nodes fitted "
                         f"(threshold {result.threshold} mV): conduction failed", key="velocity")
    x = result.cell.compartments.distance[inner]
    slope = np.polyfit(times, x, 1)[0]  # µm/ms
    return {"cv_m_s": float(abs(slope) * M_S_PER_UM_MS), "path_um": float(abs(x[-1] - x[0])),
            "n_points": int(inner.size), "times_ms": result.crossings[nodes].copy()}

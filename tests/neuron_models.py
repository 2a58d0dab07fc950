"""The same models built in NEURON, for cross-checks (import only after importorskip)."""

import numpy as np

from hhcable.analysis import threshold_crossings


def hh_cable_first_crossings(length, diam, Ra, celsius, nseg, dt, tstop, amp, dur, delay=0.5,
                             threshold=0.0, use_table=False):
    """Run an HH cable in NEURON; return segment positions (µm) and first-crossing times (ms).

    The stimulus is an IClamp at the 0 end; ``use_table=False`` makes NEURON evaluate the
    HH rates exactly, as hhcable does by default.
    """
    from neuron import h

    h.load_file("stdrun.hoc")
    h.usetable_hh = 1 if use_table else 0
    h.celsius = celsius
    sec = h.Section(name="axon")
    sec.L, sec.diam, sec.nseg, sec.Ra, sec.cm = length, diam, nseg, Ra, 1.0
    sec.insert("hh")
    stim = h.IClamp(sec(0.0))
    stim.delay, stim.dur, stim.amp = delay, dur, amp
    t = h.Vector().record(h._ref_t)
    segs = list(sec)
    vecs = [h.Vector().record(seg._ref_v) for seg in segs]
    h.dt = dt
    h.steps_per_ms = 1.0 / dt
    h.finitialize(-65.0)
    h.continuerun(tstop)
    tt = np.array(t)
    first = []
    for vec in vecs:
        c = threshold_crossings(tt, np.array(vec), threshold)
        first.append(c[0] if c.size else np.nan)
    x = np.array([seg.x for seg in segs]) * length
    del stim, vecs, sec
    return x, np.array(first)


def sections_from_hhcable(morph, comp, Ra, cm=1.0):
    """NEURON sections built from hhcable's own sections: the same 3-d points, attachment
    points (``connect`` at ``parent_x``) and ``nseg``; returns them by section index."""
    from neuron import h

    secs = []
    for s in morph.sections:
        sec = h.Section(name=f"hc_{s.name.replace('[', '_').rstrip(']')}")
        for x, y, z, r in s.points:
            sec.pt3dadd(x, y, z, 2 * r)
        sec.nseg = len(comp.section_nodes[s.index]) - 2
        sec.Ra, sec.cm = Ra, cm
        if s.parent >= 0:
            sec.connect(secs[s.parent](s.parent_x), 0)
        secs.append(sec)
    return secs


def import3d(path):
    """NEURON's own reading of an SWC file (Import3d): its sections by name (``dend[3]``)."""
    from neuron import h

    h.load_file("import3d.hoc")
    for sec in list(h.allsec()):
        h.delete_section(sec=sec)
    reader = h.Import3d_SWC_read()
    reader.quiet = 1
    reader.input(str(path))
    h.Import3d_GUI(reader, False).instantiate(None)
    return {sec.name(): sec for sec in h.allsec()}


def _first_crossings(t, vecs, threshold=0.0):
    out = []
    for vec in vecs:
        c = threshold_crossings(t, np.array(vec), threshold)
        out.append(c[0] if c.size else np.nan)
    return np.array(out)


def _run(h, node_secs, stim_sec, dt, tstop, v_init, amp, delay, dur):
    """IClamp at the middle of ``stim_sec``; first crossings of 0 mV at each node's centre (ms)."""
    stim = h.IClamp(stim_sec(0.5))
    stim.delay, stim.dur, stim.amp = delay, dur, amp
    t = h.Vector().record(h._ref_t)
    vecs = [h.Vector().record(sec(0.5)._ref_v) for sec in node_secs]
    h.dt = dt
    h.steps_per_ms = 1.0 / dt
    h.finitialize(v_init)
    h.continuerun(tstop)
    first = _first_crossings(np.array(t), vecs)
    del stim, vecs
    return first


def myelinated_fibre_arrivals(n_nodes, axon_diam, node_length, internode_length, internode_segments, cm,
                              myelin_cm, myelin_g, v_rest, Ra, celsius, dt, tstop, amp, hh_densities,
                              delay=0.1, dur=0.1):
    """A single-cable myelinated fibre in NEURON, written as a NEURON user would: a section
    per node (nseg 1, ``hh`` with ``hh_densities``: gnabar, gkbar, gl in S/cm²) and per internode (``pas`` and its own ``cm``), joined end to
    end; an IClamp at node 0.  Returns the first crossing of 0 mV at every node (ms)."""
    from neuron import h

    h.load_file("stdrun.hoc")
    h.usetable_hh = 0
    h.celsius = celsius
    nodes, internodes = [], []
    for k in range(n_nodes):
        node = h.Section(name=f"node_{k}")
        node.L, node.diam, node.nseg, node.Ra, node.cm = node_length, axon_diam, 1, Ra, cm
        node.insert("hh")
        for seg in node:
            seg.gnabar_hh, seg.gkbar_hh, seg.gl_hh = hh_densities
        if k:
            node.connect(internodes[-1](1.0), 0)
        nodes.append(node)
        if k < n_nodes - 1:
            inter = h.Section(name=f"internode_{k}")
            inter.L, inter.diam, inter.nseg, inter.Ra, inter.cm = (internode_length, axon_diam, internode_segments,
                                                                   Ra, myelin_cm)
            inter.insert("pas")
            for seg in inter:
                seg.g_pas, seg.e_pas = myelin_g, v_rest
            inter.connect(node(1.0), 0)
            internodes.append(inter)
    first = _run(h, nodes, nodes[0], dt, tstop, -65.0, amp, delay, dur)
    del nodes, internodes
    return first


#: MRG's geometry (McIntyre, Richardson & Grill 2002; ModelDB 3810 ``dependent_var``), by
#: fibre diameter: g-ratio, axonD, nodeD, paraD1, paraD2, deltax, paralength2, nl.  Typed
#: here from the published table, apart from hhcable's copy.
MRG_PUBLISHED = {
    5.7: (0.605, 3.4, 1.9, 1.9, 3.4, 500, 35, 80),
    10.0: (0.690, 6.9, 3.3, 3.3, 6.9, 1150, 46, 120),
    16.0: (0.791, 12.7, 5.5, 5.5, 12.7, 1500, 60, 150),
}


def mrg_arrivals(fiber_diam, n_nodes, dt, tstop, amp, delay=0.1, dur=0.1, celsius=37.0):
    """The MRG fibre as the published hoc builds it (MRGaxon.hoc, ModelDB 3810): ``node``,
    ``MYSA``, ``FLUT`` and six ``STIN`` sections per internode, each nseg 1, with MYSA, FLUT
    and STIN drawn at the fibre's diameter and their Ra, cm and g_pas scaled by their true
    diameters; ``extracellular`` with xraxial the periaxonal space and xg/xc the myelin.  The
    outer layer is set as hhcable's contract ties it (xraxial[1] 1e9 MΩ/cm, xg[1] 1e10
    S/cm², xc[1] 0; the published file leaves NEURON's defaults, xg[1] 1e9).  Needs the
    ``axnode`` mechanism loaded.  IClamp at node 0; first crossings of 0 mV at every node."""
    from neuron import h

    h.load_file("stdrun.hoc")
    h.celsius = celsius
    g, axonD, nodeD, paraD1, paraD2, deltax, paralength2, nl = MRG_PUBLISHED[fiber_diam]
    rhoa, mycm, mygm = 0.7e6, 0.1, 0.001  # Ω·µm, µF/cm² and S/cm² per lamella membrane
    nodelength, paralength1, space_p1, space_p2, space_i = 1.0, 3.0, 0.002, 0.004, 0.004
    interlength = (deltax - nodelength - 2 * paralength1 - 2 * paralength2) / 6

    def periaxonal(d, space):
        return rhoa * 0.01 / (np.pi * ((d / 2 + space) ** 2 - (d / 2) ** 2))

    def section(name, L, diam, Ra, cm, xraxial, xg, xc, gpas=None):
        sec = h.Section(name=name)
        sec.nseg, sec.L, sec.diam, sec.Ra, sec.cm = 1, L, diam, Ra, cm
        if gpas is None:
            sec.insert("axnode")
        else:
            sec.insert("pas")
            sec.g_pas, sec.e_pas = gpas, -80.0
        sec.insert("extracellular")
        for seg in sec:
            seg.xraxial[0], seg.xg[0], seg.xc[0] = xraxial, xg, xc
            seg.xraxial[1], seg.xg[1], seg.xc[1] = 1e9, 1e10, 0.0
        return sec

    xg, xc = mygm / (nl * 2), mycm / (nl * 2)
    chain, nodes = [], []
    for k in range(n_nodes):
        node = section(f"node_{k}", nodelength, nodeD, rhoa / 1e4, 2.0, periaxonal(nodeD, space_p1), 1e10, 0.0)
        nodes.append(node)
        chain.append(node)
        if k == n_nodes - 1:
            break
        mysa = lambda i: section(f"mysa_{k}_{i}", paralength1, fiber_diam, rhoa * (fiber_diam / paraD1) ** 2 / 1e4,
                                 2 * paraD1 / fiber_diam, periaxonal(paraD1, space_p1), xg, xc,
                                 0.001 * paraD1 / fiber_diam)
        flut = lambda i: section(f"flut_{k}_{i}", paralength2, fiber_diam, rhoa * (fiber_diam / paraD2) ** 2 / 1e4,
                                 2 * paraD2 / fiber_diam, periaxonal(paraD2, space_p2), xg, xc,
                                 0.0001 * paraD2 / fiber_diam)
        stins = [section(f"stin_{k}_{i}", interlength, fiber_diam, rhoa * (fiber_diam / axonD) ** 2 / 1e4,
                         2 * axonD / fiber_diam, periaxonal(axonD, space_i), xg, xc, 0.0001 * axonD / fiber_diam)
                 for i in range(6)]
        chain += [mysa(0), flut(0), *stins, flut(1), mysa(1)]
    for parent, child in zip(chain, chain[1:]):
        child.connect(parent(1.0), 0)
    first = _run(h, nodes, nodes[0], dt, tstop, -80.0, amp, delay, dur)
    del chain, nodes
    return first

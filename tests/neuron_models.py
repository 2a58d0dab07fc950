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

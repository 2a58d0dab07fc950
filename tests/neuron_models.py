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

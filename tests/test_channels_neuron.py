"""The library's published channels against NEURON running NMODL files of the same equations.

``tests/nmodl/*.mod`` were written from the published equations (Connor, Walter & McKown
1977, in Dayan & Abbott's form), as a NEURON user would write them, independently of the
Python descriptions; they are compiled with ``nrnivmodl`` here.  Skipped where NEURON or a C
compiler is missing.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import hhcable as hc
from hhcable.analysis import threshold_crossings

NMODL = Path(__file__).resolve().parent / "nmodl"
#: Spike times (ms): the acceptance bound.  Both sides step by backward Euler with the gates
#: by exponential Euler half a step apart (NMODL's cnexp is exponential Euler for these
#: linear gate equations) and exact rates, so they differ by round-off only (measured:
#: ~1e-11 ms); 1e-3 ms would still catch a wrong constant in any rate (>= 1e-2 ms).
SPIKE_ATOL_MS = 1e-3


@pytest.fixture(scope="module")
def neuron_h(tmp_path_factory):
    neuron = pytest.importorskip("neuron")
    if shutil.which("nrnivmodl") is None or (shutil.which("cc") or shutil.which("gcc")) is None:
        pytest.skip("nrnivmodl or a C compiler is missing")
    build = tmp_path_factory.mktemp("nmodl")
    for mod in NMODL.glob("*.mod"):
        shutil.copy(mod, build)
    done = subprocess.run(["nrnivmodl"], cwd=build, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"nrnivmodl failed: {done.stderr[-300:]}")
    if not hasattr(neuron.h, "na_cs"):  # loaded once per process
        neuron.load_mechanisms(str(build))
    neuron.h.load_file("stdrun.hoc")
    return neuron.h


#: Two cables: the full Connor-Stevens membrane, and an HH axon with the A-current added.
MODELS = {
    "connor_stevens": dict(
        ours=lambda: [hc.channels.NaCS(use_table=False), hc.channels.KdrCS(use_table=False),
                      hc.channels.KACS(use_table=False), hc.Passive(g=3e-4, e=-17.0)],
        theirs=[("na_cs", {}), ("kdr_cs", {}), ("ka_cs", {}), ("pas", {"g_pas": 3e-4, "e_pas": -17.0})],
        v_init=-68.0, celsius=6.3, amp=1.5),
    "hh_plus_a": dict(
        ours=lambda: [hc.HH(use_table=False), hc.channels.KACS(gkabar=0.005, use_table=False)],
        theirs=[("hh", {}), ("ka_cs", {"gkabar_ka_cs": 0.005})],
        v_init=-65.0, celsius=6.3, amp=2.0),
}
LENGTH, DIAM, NSEG, DT, TSTOP = 1020.0, 4.0, 51, 0.025, 60.0
#: Stimulus at the 0 end (ms), long enough for a train of spikes (the amplitude, nA, is the model's).
STIM = dict(delay=2.0, dur=50.0)


def run_neuron(h, model):
    h.usetable_hh = 0
    h.celsius = model["celsius"]
    sec = h.Section(name="cable")
    sec.L, sec.diam, sec.nseg, sec.Ra, sec.cm = LENGTH, DIAM, NSEG, 35.4, 1.0
    for name, params in model["theirs"]:
        sec.insert(name)
        for key, value in params.items():
            for seg in sec:
                setattr(seg, key, value)
    stim = h.IClamp(sec(0.0))
    stim.delay, stim.dur, stim.amp = STIM["delay"], STIM["dur"], model["amp"]
    t = h.Vector().record(h._ref_t)
    vecs = [h.Vector().record(seg._ref_v) for seg in sec]
    h.dt = DT
    h.steps_per_ms = 1.0 / DT
    h.finitialize(model["v_init"])
    h.continuerun(TSTOP)
    tt = np.array(t)
    traces = [np.array(vec) for vec in vecs]
    del stim, vecs, sec
    return tt, traces


def run_ours(model):
    cell = hc.Cell(hc.Morphology.cable(LENGTH, DIAM), Ra=35.4, celsius=model["celsius"], max_segment=LENGTH / NSEG)
    for channel in model["ours"]():
        cell.insert(channel)
    sim = hc.Simulation(cell, dt=DT, v_init=model["v_init"])
    sim.iclamp(at=0.0, amp=model["amp"], **STIM)
    sim.probe("mid", at=0.5)
    sim.record_crossings(0.0)
    return sim.run(TSTOP)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_spike_times_equal_neurons_nmodl(neuron_h, name):
    model = MODELS[name]
    ours = run_ours(model)
    t, traces = run_neuron(neuron_h, model)
    # First arrival at every segment.
    first = np.array([(c[0] if c.size else np.nan) for c in (threshold_crossings(t, v, 0.0) for v in traces)])
    assert np.isfinite(first).all()  # the spike crossed the whole cable
    np.testing.assert_allclose(ours.crossings[1:-1], first, rtol=0, atol=SPIKE_ATOL_MS)
    # Every spike of the repetitive train at the middle (segment NSEG // 2 is at x = 0.5).
    mine, theirs = hc.spike_times(ours.t, ours["mid"]), hc.spike_times(t, traces[NSEG // 2])
    assert len(theirs) >= 3 and len(mine) == len(theirs)
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=SPIKE_ATOL_MS)


def test_the_a_current_delays_the_first_spike(neuron_h):
    # What the A-current is known for (Connor & Stevens 1971): it delays firing.  Checked
    # in both simulators so the effect is the equations', not ours.
    with_a = MODELS["connor_stevens"]
    without = dict(with_a, ours=lambda: with_a["ours"]()[:2] + with_a["ours"]()[3:],
                   theirs=with_a["theirs"][:2] + with_a["theirs"][3:])
    delay = {}
    for label, model in (("with", with_a), ("without", without)):
        res = run_ours(model)
        t, traces = run_neuron(neuron_h, model)
        delay[label] = hc.spike_times(res.t, res["mid"])[0]
        assert delay[label] == pytest.approx(hc.spike_times(t, traces[NSEG // 2])[0], abs=SPIKE_ATOL_MS)
    assert delay["with"] > delay["without"] + 1.0  # ms

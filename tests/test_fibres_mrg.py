"""The MRG fibre (McIntyre, Richardson & Grill 2002) against NEURON running the published model.

``tests/nmodl/axnode.mod`` is written from the paper's node equations, independently of
:class:`hhcable.MRGNode`; ``neuron_models.mrg_arrivals`` builds the fibre as the published
hoc file does (its own copy of the geometry table, sections drawn at the fibre diameter,
``extracellular`` for the periaxonal space and myelin).  Skipped without NEURON or a compiler.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import hhcable as hc
from hhcable.fibres import MRG_TABLE, mrg_geometry

NMODL = Path(__file__).resolve().parent / "nmodl"
#: The published model's step (ms); the runs are short, so it costs little.
DT = 0.005
N_NODES, TSTOP, AMP = 21, 3.0, 2.0  # nodes, ms, nA (a 0.1 ms pulse at node 0, ~4x threshold)


@pytest.fixture(scope="module")
def neuron_h(tmp_path_factory):
    neuron = pytest.importorskip("neuron")
    if shutil.which("nrnivmodl") is None or (shutil.which("cc") or shutil.which("gcc")) is None:
        pytest.skip("nrnivmodl or a C compiler is missing")
    if not hasattr(neuron.h, "axnode"):  # every .mod of tests/nmodl is loaded once per process
        build = tmp_path_factory.mktemp("nmodl")
        for mod in NMODL.glob("*.mod"):
            shutil.copy(mod, build)
        done = subprocess.run(["nrnivmodl"], cwd=build, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"nrnivmodl failed: {done.stderr[-300:]}")
        neuron.load_mechanisms(str(build))
    neuron.h.load_file("stdrun.hoc")
    return neuron.h


def test_node_channels_equal_neurons_axnode(neuron_h):
    # One node compartment (no layer) at 37 °C driven into repetitive firing.
    h = neuron_h
    L, diam, delay, dur, amp, tstop = 1.0, 3.3, 1.0, 15.0, 0.02, 20.0  # µm, ms, nA
    h.celsius = 37.0
    sec = h.Section(name="mrg_node")
    sec.L, sec.diam, sec.nseg, sec.cm, sec.Ra = L, diam, 1, 2.0, 70.0
    sec.insert("axnode")
    stim = h.IClamp(sec(0.5))
    stim.delay, stim.dur, stim.amp = delay, dur, amp
    t, v = h.Vector().record(h._ref_t), h.Vector().record(sec(0.5)._ref_v)
    h.dt, h.steps_per_ms = DT, 1.0 / DT
    h.finitialize(-80.0)
    h.continuerun(tstop)
    theirs = hc.spike_times(np.array(t), np.array(v))
    del stim, sec

    cell = hc.Cell(hc.Morphology.cable(L, diam), cm=2.0, Ra=70.0, celsius=37.0, max_segment=10.0)
    cell.insert(hc.MRGNode(use_table=False))
    sim = hc.Simulation(cell, dt=DT, v_init=-80.0, backend="numpy")  # one compartment: no kernel to compile
    sim.iclamp(at=0.5, delay=delay, dur=dur, amp=amp)
    sim.probe("v", at=0.5)
    res = sim.run(tstop)
    mine = hc.spike_times(res.t, res["v"])
    assert len(theirs) >= 5 and len(mine) == len(theirs)
    # Same equations, same exponential-Euler gates and backward-Euler voltage: round-off
    # only (~1e-11 ms measured); 1e-3 ms catches any wrong constant or Q10.
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-3)


@pytest.mark.parametrize("diam", [5.7, 10.0, 16.0])
def test_velocity_equals_neurons_mrg(neuron_h, diam):
    from neuron_models import mrg_arrivals

    fibre = hc.mrg_fibre(diam=diam, n_nodes=N_NODES, node_channel=hc.MRGNode(use_table=False))
    assert fibre.cell.n_compartments == N_NODES + (N_NODES - 1) * 10  # node, 2 MYSA, 2 FLUT, 6 STIN
    sim = hc.Simulation(fibre.cell, dt=DT, v_init=-80.0)
    sim.iclamp(at=fibre.node(0), delay=0.1, dur=0.1, amp=AMP)
    sim.record_crossings(0.0)
    ours = hc.node_velocity(sim.run(TSTOP), fibre)
    theirs_t = mrg_arrivals(diam, N_NODES, DT, TSTOP, AMP)
    assert np.isfinite(theirs_t).all()
    inner = slice(N_NODES // 4, N_NODES - N_NODES // 4)
    x = fibre.node_positions
    theirs = np.polyfit(theirs_t[inner], x[inner], 1)[0] * 1e-3  # µm/ms -> m/s
    # The bound is 2 %; the same model and discretisation agree to round-off
    # (arrival times ~1e-11 ms apart measured), so the bound is kept tight too.
    assert ours["cv_m_s"] == pytest.approx(theirs, rel=0.02)
    np.testing.assert_allclose(ours["times_ms"], theirs_t, rtol=0, atol=1e-6)
    # Velocities near the published model's: about 4 to 6 m/s per µm of fibre diameter
    # (MRG 2002, their Fig. 2, against Boyd & Kalu's cat data).
    assert 4.0 < ours["cv_m_s"] / diam < 6.0


def test_geometry_is_the_published_table_interpolated():
    from neuron_models import MRG_PUBLISHED

    for diam, (g, axon, node, para1, para2, deltax, flut, nl) in MRG_PUBLISHED.items():
        geo = mrg_geometry(diam)
        assert (geo["g_ratio"], geo["axon_diam"], geo["node_diam"], geo["mysa_diam"], geo["flut_diam"],
                geo["node_to_node"], geo["flut_length"], geo["lamellae"]) == (g, axon, node, para1, para2,
                                                                              deltax, flut, nl)
        assert 2 * 3.0 + 2 * flut + 6 * geo["stin_length"] + 1.0 == pytest.approx(deltax)
    # Halfway between two rows, every entry is halfway (linear interpolation).
    table = MRG_TABLE["fiber_diam"]
    mid = mrg_geometry((table[3] + table[4]) / 2)
    assert mid["lamellae"] == pytest.approx((MRG_TABLE["lamellae"][3] + MRG_TABLE["lamellae"][4]) / 2)
    with pytest.raises(hc.InputError, match="outside MRG's table"):
        mrg_geometry(20.0)


def test_node_positions_are_the_node_to_node_distance_apart():
    fibre = hc.mrg_fibre(diam=10.0, n_nodes=4)
    np.testing.assert_allclose(np.diff(fibre.node_positions), 1150.0, rtol=1e-12)
    # The double cable: every compartment has the layer; nodes tied to the outside.
    assert fibre.cell.layer_nodes().all()
    assert np.all(fibre.cell.layer.xg[fibre.nodes] == 1e10)

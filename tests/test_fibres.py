"""Single-cable myelinated fibres: the myelin's membrane, saltatory conduction against NEURON,
velocity against diameter (Rushton 1951's linear law beside the unmyelinated square root),
demyelination, and the node-to-node velocity."""

import numpy as np
import pytest

import hhcable as hc
from hhcable.fibres import INTERNODE_PER_DIAMETER, LAMELLA_THICKNESS_UM, lamellae, node_hh
from hhcable.theory import unmyelinated_velocity

#: Coarse enough to keep these tests fast; the NEURON comparison uses the same step.
DT = 0.01  # ms
TSTOP = 8.0  # ms
N_NODES = 41


def run(fibre, tstop=TSTOP, dt=DT):
    sim = hc.Simulation(fibre.cell, dt=dt)
    sim.iclamp(at=fibre.node(0), delay=0.1, dur=0.1, amp=_amp(fibre))
    sim.record_crossings(0.0)
    return sim.run(tstop)


def _amp(fibre):
    """A brief pulse above threshold at node 0 (nA), growing with the axon's size."""
    return 2.0 * fibre.geometry["fiber_diam"]


def test_internode_membrane_follows_the_lamellae():
    # Closed form: n = D (1 - g) / (2 t) lamellae; 1 + 2n membranes in series divide the
    # capacitance and the leak by 1 + 2n.
    fibre = hc.myelinated_fibre(diam=10.0, n_nodes=3, g_ratio=0.6, cm=1.0, myelin_g=1e-3)
    n = 10.0 * 0.4 / (2 * LAMELLA_THICKNESS_UM)
    assert fibre.geometry["lamellae"] == pytest.approx(n, rel=1e-12)
    cell = fibre.cell
    inter = cell.nodes_where("internode")
    np.testing.assert_allclose(cell.node_cm[inter], 1.0 / (1 + 2 * n), rtol=1e-12)
    pas = next(m for m, nodes in cell.mechanisms if m.name == "pas")
    assert pas.g == pytest.approx(1e-3 / (1 + 2 * n), rel=1e-12)
    np.testing.assert_array_equal(cell.node_cm[fibre.nodes], 1.0)
    # Geometry: nodes 1 µm, internodes 100 D, node-to-node distance their sum.
    assert np.diff(fibre.node_positions) == pytest.approx(INTERNODE_PER_DIAMETER * 10.0 + 1.0, rel=1e-12)
    assert cell.compartments.diam[fibre.nodes] == pytest.approx(6.0)


def test_arrival_times_equal_neurons():
    pytest.importorskip("neuron")
    from neuron_models import myelinated_fibre_arrivals

    diam, segments = 10.0, 9
    fibre = hc.myelinated_fibre(diam=diam, n_nodes=N_NODES, node_channel=node_hh(use_table=False),
                                internode_segments=segments)
    node = fibre.cell.mechanisms[0][0]
    ours = run(fibre).crossings[fibre.nodes]
    geo, n = fibre.geometry, fibre.geometry["lamellae"]
    theirs = myelinated_fibre_arrivals(
        N_NODES, geo["axon_diam"], geo["node_length"], geo["internode_length"], segments, cm=1.0,
        myelin_cm=1.0 / (1 + 2 * n), myelin_g=1e-3 / (1 + 2 * n), v_rest=-65.0, Ra=35.4, celsius=6.3,
        dt=DT, tstop=TSTOP, amp=_amp(fibre), hh_densities=(node.gnabar, node.gkbar, node.gl))
    assert np.isfinite(theirs).all()  # the spike reached every node
    # The bound is 1 % of each arrival time; both solve the same discretised
    # system by backward Euler, so they agree to round-off (~1e-9 ms measured).
    np.testing.assert_allclose(ours, theirs, rtol=0.01)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def velocity_laws():
    """Velocities (m/s) of myelinated fibres (HH nodes, 6.3 °C) and of unmyelinated HH axons."""
    myelinated = {}
    for d in (2.0, 5.0, 10.0, 20.0):
        fibre = hc.myelinated_fibre(diam=d, n_nodes=N_NODES, internode_segments=5)
        myelinated[d] = hc.node_velocity(run(fibre), fibre)["cv_m_s"]
    # One unmyelinated reference at 6.3 °C (the theory's own is at 18.5 °C): a 10 µm axon.
    cell = hc.Cell(hc.Morphology.cable(length=3000.0, diam=10.0), max_segment=20.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=DT)
    sim.iclamp(at=0.0, delay=0.1, dur=0.2, amp=20.0)
    sim.record_crossings(0.0)
    bare = hc.conduction_velocity(sim.run(TSTOP + 2.0), start=0.3, stop=0.7)["cv_m_s"]
    return myelinated, bare


def test_myelinated_velocity_grows_linearly_with_diameter(velocity_laws):
    myelinated, _ = velocity_laws
    d = np.array(sorted(myelinated))
    cv = np.array([myelinated[k] for k in d])
    exponent = np.polyfit(np.log(d), np.log(cv), 1)[0]
    # Rushton (1951): a fibre whose every length scales with its diameter conducts at a
    # speed proportional to it.  The band: 1.0 ± 0.1.  (The 1 µm node does not
    # scale; it moves the exponent by ~1e-3.)
    assert exponent == pytest.approx(1.0, abs=0.1)


def test_myelin_pays_above_a_crossover_diameter(velocity_laws):
    myelinated, bare = velocity_laws
    bare_law = lambda d: unmyelinated_velocity(d, Ra=35.4, reference=(bare, 10.0, 35.4))  # noqa: E731
    slope = np.mean([myelinated[d] / d for d in myelinated])  # m/s per µm
    crossover = float((bare_law(1.0) / slope) ** 2)  # µm: slope d = bare_law(d)
    # Above it the myelinated fibre is faster, by sqrt(d / crossover) (the two laws).
    for d, cv in myelinated.items():
        assert cv / float(bare_law(d)) == pytest.approx(np.sqrt(d / crossover), rel=0.05)
    # Rushton (1951) put the crossover near 1 µm, Waxman & Bennett (1972) near 0.2 µm: our
    # HH-node fibre falls in that range.
    assert 0.1 < crossover < 2.0


def test_demyelination_slows_then_blocks():
    # Three middle internodes keep a fraction of their lamellae: conduction through them
    # slows as the fraction falls, and fails with no myelin (the bare axolemma has no
    # sodium channels), which node arrival times show.
    middle = [20, 21, 22]
    times = {}
    for left in (1.0, 0.3, 0.1, 0.0):
        fibre = hc.myelinated_fibre(diam=10.0, n_nodes=N_NODES, internode_segments=5,
                                    demyelinated=middle if left < 1.0 else (), lamellae_left=left)
        times[left] = run(fibre, tstop=8.0).crossings[fibre.nodes]
    assert np.isfinite(times[1.0]).all() and np.isfinite(times[0.3]).all()
    assert times[0.3][-1] > times[1.0][-1] and times[0.1][-1] > times[0.3][-1]
    assert not np.isfinite(times[0.0][-1])  # block: the far node never fires
    assert np.isfinite(times[0.0][:18]).all()  # ... though the nodes before the lesion do


def test_node_velocity_errors_name_the_problem():
    fibre = hc.myelinated_fibre(diam=2.0, n_nodes=4, internode_segments=3)
    sim = hc.Simulation(fibre.cell, dt=DT)
    res = sim.run(0.1)
    with pytest.raises(hc.InputError, match="record_crossings"):
        hc.node_velocity(res, fibre)
    sim.record_crossings(0.0)
    res = sim.run(0.1)
    with pytest.raises(hc.InputError, match="did not reach"):
        hc.node_velocity(res, fibre, skip=1)
    with pytest.raises(hc.InputError, match="skip"):
        hc.node_velocity(res, fibre, skip=2)


@pytest.mark.parametrize("kwargs, key", [
    (dict(g_ratio=1.5), "g_ratio"), (dict(diam=-1.0), "diam"), (dict(n_nodes=1), "n_nodes"),
    (dict(lamellae_left=2.0), "lamellae_left"), (dict(demyelinated=[40]), "demyelinated"),
    (dict(internode_segments=2000), "internode_segments"),
])
def test_bad_arguments_name_the_key(kwargs, key):
    with pytest.raises(hc.InputError) as err:
        hc.myelinated_fibre(**{"n_nodes": 5, **kwargs})
    assert err.value.key == key


def test_lamellae_closed_form():
    assert lamellae(10.0, 0.7, thickness=0.015) == pytest.approx(100.0)


MODEL = """
[morphology]
builder = "myelinated_fibre"
diam_um = 10
n_nodes = 41
internode_segments = 5
{extra}

[[stimulus]]
kind = "iclamp"
at = {{ x = 0.0 }}
delay_ms = 0.1
dur_ms = 0.1
amp_nA = 20

[simulation]
dt_ms = 0.01
tstop_ms = 8

[velocity]
"""


def test_model_file_velocity_is_node_to_node(tmp_path, capsys):
    import json

    from hhcable import cli

    path = tmp_path / "fibre.toml"
    path.write_text(MODEL.format(extra=""))
    assert cli.main(["run", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    # The same fibre and stimulus from Python, measured node to node.
    fibre = hc.myelinated_fibre(diam=10.0, n_nodes=41, internode_segments=5)
    sim = hc.Simulation(fibre.cell, dt=0.01)
    sim.iclamp(at=0.0, delay=0.1, dur=0.1, amp=20.0)
    sim.record_crossings(0.0)
    expected = hc.node_velocity(sim.run(8.0), fibre)
    assert summary["velocity"]["cv_m_s"] == pytest.approx(expected["cv_m_s"], rel=1e-12)
    assert summary["velocity"]["path_um"] == pytest.approx(expected["path_um"], rel=1e-12)


@pytest.mark.parametrize("extra, key", [
    ("g_ratio = 1.5", "morphology.g_ratio"), ("color = 3", "morphology.color"),
    ("demyelinated = [99]", "morphology.demyelinated"), ("demyelinated = 3", "morphology.demyelinated"),
    ("node_channel = \"na\"", "morphology.node_channel"), ("n_nodes_x = 2", "morphology.n_nodes_x"),
    ("lamellae_left = -0.5", "morphology.lamellae_left"),
])
def test_model_file_bad_fibre_keys_name_the_key(tmp_path, capsys, extra, key):
    from hhcable import cli

    path = tmp_path / "fibre.toml"
    path.write_text(MODEL.format(extra=extra))
    assert cli.main(["run", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{path}: {key}:" in err[0]


def test_model_file_fibre_refuses_discretization_and_cable_velocity_keys(tmp_path, capsys):
    from hhcable import cli

    for extra_table, key in (("[discretization]\nmax_segment_um = 5\n", "discretization"),
                             ("[biophysics]\nmechanisms = []\n", "biophysics.mechanisms")):
        path = tmp_path / "fibre.toml"
        path.write_text(MODEL.format(extra="") + "\n" + extra_table)
        assert cli.main(["run", str(path)]) == 2
        assert f"{path}: {key}:" in capsys.readouterr().err
    path.write_text(MODEL.format(extra="") + "from = { x = 0.2 }\n")
    assert cli.main(["run", str(path)]) == 2
    assert "velocity.from" in capsys.readouterr().err

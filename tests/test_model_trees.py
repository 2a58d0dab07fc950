"""Trees in model files (builders, locations by section) and the builders' SWC round trip.

References: Rall's closed-form input resistance of a 3/2-rule tree (its equivalent cylinder),
and the builders' own SWC files (the same cell must give the same spike times).
"""

import io
import json
import math

import numpy as np
import pytest

import hhcable as hc
from hhcable import cli, theory

G_PAS, RA = 1e-4, 35.4  # S/cm², Ω·cm
BINARY_TREE = """
[morphology]
builder = "binary_tree"
depth = 9                 # 10 levels of sections, 1023 in all
length_um = 200.0
diam_um = 4.0
length_ratio = 0.7937005259840998   # 2**(-1/3): every level has the same electrotonic length
rall = true
[discretization]
max_segment_um = 10
[biophysics]
Ra_ohm_cm = 35.4
mechanisms = [ { name = "pas", g = 1e-4, e = 0.0 } ]
[[stimulus]]
kind = "iclamp"
at = { section = "dend[0]", x = 0 }
delay_ms = 0
dur_ms = 1e9
amp_nA = 0.1
[[probe]]
name = "root"
at = { x = 0 }
[[probe]]
name = "tip"
at = { section = "dend[9]", x = 1 }
[simulation]
dt_ms = 100        # ten membrane time constants: backward Euler reaches the steady state
tstop_ms = 2000
v_init_mV = 0
"""


def run_model(tmp_path, text, capsys):
    path = tmp_path / "model.toml"
    path.write_text(text)
    assert cli.main(["run", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_binary_tree_in_toml_has_rall_input_resistance(tmp_path, capsys):
    summary = run_model(tmp_path, BINARY_TREE, capsys)
    # Rall: a 3/2-rule tree whose levels have equal electrotonic length is a cylinder of the
    # trunk's diameter and ten times its electrotonic length (sealed end).
    lam = theory.length_constant(4.0, G_PAS, RA)
    electrotonic = 10 * theory.electrotonic_length(200.0, 4.0, G_PAS, RA)
    r_in = theory.input_resistance(4.0, electrotonic * lam, G_PAS, RA, end="sealed")
    # 0.5 % is the acceptance bound (10 µm segments and the annuli NEURON's geometry adds
    # where diameters step at branch points leave ~0.2 %)
    assert summary["probes"]["root"]["v_final_mV"] / 0.1 == pytest.approx(r_in, rel=5e-3)
    # dend[9] is the first tip reached depth first: at electrotonic distance 10 of 10, the
    # equivalent cylinder's sealed end, 1/cosh(L) of the root's voltage
    tip = summary["probes"]["tip"]["v_final_mV"] / summary["probes"]["root"]["v_final_mV"]
    assert tip == pytest.approx(1 / math.cosh(electrotonic), rel=5e-3)


@pytest.mark.parametrize("builder, keys", [
    ("cable", 'length_um = 500\ndiam_um = 2'),
    ("y_junction", 'parent_length_um = 300\nparent_diam_um = 2\ndaughter_lengths_um = [200, 400]\n'
                   'daughter_diams_um = [1, 1.5]\nangle_deg = 90'),
    ("soma_with_dendrites", 'soma_diam_um = 20\nn_dendrites = 2\ndend_length_um = 200\ndend_diam_um = 2\n'
                            'axon_length_um = 300\naxon_diam_um = 1'),
])
def test_every_builder_in_toml_equals_the_python_one(tmp_path, capsys, builder, keys):
    text = f'[morphology]\nbuilder = "{builder}"\n{keys}\n' + BINARY_TREE.split("[discretization]")[1].join(
        ["[discretization]", ""])
    text = text.replace('section = "dend[0]", x = 0', "x = 0").replace('section = "dend[9]", x = 1', "x = 1")
    from hhcable.modelfile import load
    path = tmp_path / "m.toml"
    path.write_text(text)
    morph = load(path).simulation.cell.morphology
    assert morph.name == builder
    python = {"cable": lambda: hc.Morphology.cable(500.0, 2.0),
              "y_junction": lambda: hc.Morphology.y_junction(300.0, 2.0, (200.0, 400.0), (1.0, 1.5), angle=90.0),
              "soma_with_dendrites": lambda: hc.Morphology.soma_with_dendrites(20.0, 2, 200.0, 2.0, 300.0, 1.0)}
    other = python[builder]()
    assert sorted(morph.graph.nodes(data=True)) == sorted(other.graph.nodes(data=True))


@pytest.mark.parametrize("keys, key, words", [
    ('builder = "star"', "morphology.builder", "unknown builder"),
    ('builder = "binary_tree"\ndepth = 3\nlength_um = 100\ndiam_um = 2\nlength = 5', "morphology.length",
     "unknown key"),
    ('builder = "binary_tree"\ndepth = 3\nlength_um = 100', "morphology.diam_um", "missing"),
    ('builder = "binary_tree"\ndepth = 3\nlength_um = -100\ndiam_um = 2', "morphology.length_um", "positive"),
    ('builder = "binary_tree"\ndepth = 2.5\nlength_um = 100\ndiam_um = 2', "morphology.depth", "whole number"),
    ('builder = "y_junction"\nparent_length_um = 300\nparent_diam_um = 2\ndaughter_lengths_um = [200]\n'
     'daughter_diams_um = [1, 1]', "morphology.daughter_lengths_um", "pair"),
    ('builder = "cable"\nlength_um = "long"\ndiam_um = 2', "morphology.length_um", "number"),
])
def test_builder_errors_name_the_key(tmp_path, capsys, keys, key, words):
    text = f"[morphology]\n{keys}\n" + "[discretization]" + BINARY_TREE.split("[discretization]")[1]
    path = tmp_path / "bad.toml"
    path.write_text(text.replace('section = "dend[0]", x = 0', "x = 0").replace('section = "dend[9]", x = 1',
                                                                              "x = 1"))
    assert cli.main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert key in err and words in err and len(err.strip().splitlines()) == 1


def test_section_locations_in_toml_name_the_key(tmp_path, capsys):
    text = BINARY_TREE.replace('section = "dend[9]", x = 1', 'section = "apic[0]", x = 1')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert cli.main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "probe[1].at" in err and "no section 'apic[0]'" in err


def soma_stimulus_tip_times(morph):
    cell = hc.Cell(morph, Ra=100.0, d_lambda=0.1)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.025)
    sim.iclamp(at=hc.Location(section="soma", x=0.5), delay=0.5, dur=0.5, amp=3.0)
    sim.record_crossings(0.0)
    crossings = sim.run(tstop=8.0).crossings
    return np.array([crossings[cell.compartments.sample_node[t]] for t in morph.tips()])


def test_soma_with_dendrites_and_its_swc_give_the_same_spike_times():
    built = hc.Morphology.soma_with_dendrites(soma_diam=20.0, n_dendrites=3, dend_length=300.0, dend_diam=2.0,
                                              axon_length=500.0, axon_diam=1.0)
    out = io.StringIO()
    hc.write_swc(built, out)
    again = hc.parse_swc(out.getvalue())
    assert [s.name for s in again.sections] == [s.name for s in built.sections]
    a, b = soma_stimulus_tip_times(built), soma_stimulus_tip_times(again)
    assert np.all(np.isfinite(a))
    # The same cell: the same numbers up to the round trip of coordinates through text (repr
    # is exact), so the times agree to round-off.
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_soma_with_dendrites_matches_neuron_reading_its_swc(tmp_path):
    pytest.importorskip("neuron")
    from neuron_models import import3d
    built = hc.Morphology.soma_with_dendrites(n_dendrites=2)
    hc.write_swc(built, tmp_path / "ball.swc")
    secs = import3d(tmp_path / "ball.swc")
    assert sorted(secs) == sorted(s.name for s in built.sections)
    for s in built.sections:
        sec = secs[s.name]
        assert sec.L == pytest.approx(s.length, rel=1e-6)  # NEURON's single-precision points
        if s.parent >= 0:
            assert sec.parentseg().x == s.parent_x == 0.5


def test_run_prints_the_swc_warnings_once(tmp_path, capsys):
    swc = tmp_path / "cell.swc"
    swc.write_text("1 1 0 0 0 5 -1\n2 3 0 5 0 0 1\n3 3 0 50 0 0 2\n4 3 0 50 0 1 3\n5 7 0 -50 0 1 1\n"
                   "6 7 0 -90 0 1 5\n7 3 0 90 0 9 4\n")
    text = BINARY_TREE.split("[discretization]")[1].replace('section = "dend[9]", x = 1', "swc_id = 7")
    text = text.replace('section = "dend[0]", x = 0', "swc_id = 1")
    path = tmp_path / "model.toml"
    path.write_text('[morphology]\nswc = "cell.swc"\n[discretization]' + text)
    assert cli.main(["run", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # stdout stays strict JSON
    lines = captured.err.strip().splitlines()
    assert lines[0].startswith(f"hhcable: {swc}: 4 warnings (all of them: hhcable swc-info")
    assert len(lines) == 1 + cli.SHOWN_WARNINGS
    assert all(line.startswith(f"  {swc}:") for line in lines[1:])

"""Samples to sections by Import3d's rules, worked out by hand from NEURON's read_swc.hoc.

(tests/test_neuron_swc.py checks the same rules against NEURON itself on real files.)
"""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import hhcable as hc
from hhcable.discretize import discretize

pytestmark = pytest.mark.filterwarnings("ignore::hhcable.SWCWarning")

CONTOUR = """1 1 -9 0 0 2 -1
2 1 -5 4 0 5 1
3 1 0 5 0 6.5 2
4 1 5 4 0 5 3
5 1 9 0 0 2 4
6 3 0 9 0 1.2 3
7 3 6 30 0 1.0 6
8 2 9 0 0 0.8 5
9 2 40 -12 0 0.7 8
"""


def by_name(morph):
    return {s.name: s for s in morph.sections}


def test_contour_soma_neurites_attach_where_import3d_attaches_them():
    m = hc.parse_swc(CONTOUR)
    secs = by_name(m)
    assert m.soma == "cylinders" and secs["soma[0]"].samples == (1, 2, 3, 4, 5)
    # from an inner soma sample: the soma's middle, starting at its own first sample
    dend = secs["dend[0]"]
    assert (dend.parent_x, dend.start, dend.samples) == (0.5, None, (6, 7))
    assert dend.length == pytest.approx(math.hypot(6, 21))
    # from the soma's last sample: its 1 end, starting there with the axon's own radius
    axon = secs["axon[0]"]
    assert (axon.parent_x, axon.start) == (1.0, 5)
    np.testing.assert_array_equal(axon.points[0], [9, 0, 0, 0.8])


def test_neurite_length_starts_at_its_first_sample():
    # The old reading hung each neurite from the soma centre with the soma's radius: a cone
    # of soma-sized membrane.  Now the dendrite is a 1 µm cylinder from its first sample.
    m = hc.parse_swc("1 1 0 0 0 10 -1\n2 3 0 20 0 0.5 1\n3 3 0 120 0 0.5 2\n")
    comp = discretize(m, Ra=100.0, cm=1.0, max_segment=1e9)
    dend = comp.type == 3
    assert comp.area[dend].sum() == pytest.approx(math.pi * 1.0 * 100.0, rel=1e-12)
    assert comp.area[comp.type == 1].sum() == pytest.approx(4 * math.pi * 10.0**2, rel=1e-12)
    # the dendrite's first node hangs from the soma's middle through half its own segment
    first = comp.section_nodes[1][1]
    assert comp.parent[first] == comp.section_nodes[0][1]
    r_half = 100.0 * 50.0 / (math.pi * 0.5**2) * 1e-2  # Ra L / (π r²), Ω·cm·µm/µm² -> MΩ
    assert 1 / comp.g_axial[first] == pytest.approx(r_half, rel=1e-12)


@pytest.mark.parametrize("end_y, sphere", [(6.0, True), (6.05, True), (6.2, False)])
def test_three_point_rule_within_one_percent(end_y, sphere):
    # NeuroMorpho's rule as Import3d applies it: the path through the three samples equals
    # the diameter within 1 % (12.05 / 12 passes, 12.2 / 12 does not).
    m = hc.parse_swc(f"1 1 0 0 0 6 -1\n2 1 0 -6 0 6 1\n3 1 0 {end_y} 0 6 1\n4 3 8 0 0 1 1\n5 3 40 0 0 1 4\n")
    assert (m.soma == "three-point") == sphere
    assert len([s for s in m.sections if s.type == 1]) == (1 if sphere else 2)


def test_single_sample_neurite_on_a_point_soma_starts_at_the_centre():
    # Import3d wires only neurites of two or more samples; a single sample makes a cylinder
    # of its own radius from the soma centre.
    m = hc.parse_swc("1 1 0 0 0 5 -1\n2 2 0 -30 0 1 1\n")
    axon = by_name(m)["axon[0]"]
    assert axon.start == 1 and axon.length == 30.0 and axon.parent_x == 0.5
    np.testing.assert_array_equal(axon.points[:, 3], [1.0, 1.0])


def test_branch_off_a_wired_first_sample_attaches_to_the_neurites_0_end():
    # Sample 7 branches off sample 4, the first sample of a neurite on the soma: Import3d
    # attaches that branch to the neurite's 0 end (electrically, the soma's middle).
    m = hc.parse_swc("1 1 0 0 0 5 -1\n2 2 -8 0 0 1 1\n3 2 -30 0 0 1 2\n"
                     "4 3 8 0 0 1 1\n5 3 20 0 0 1 4\n6 3 30 0 0 1 5\n7 3 8 10 0 1 4\n")
    secs = by_name(m)
    trunk, branch = secs["dend[0]"], secs["dend[1]"]
    assert trunk.samples == (4, 5, 6) and trunk.start is None
    assert (branch.parent, branch.parent_x, branch.start) == (trunk.index, 0.0, 4)
    cell = hc.Cell(m, max_segment=100.0)
    nodes = cell.compartments.section_nodes
    # both hang from the soma's middle node
    assert nodes[branch.index][0] == nodes[trunk.index][0] == nodes[0][1]


def test_names_count_per_type_as_import3d():
    m = hc.read_swc(Path(__file__).parent / "data" / "MorphIO__simple-all-types.swc")
    names = [s.name for s in m.sections]
    assert names[0] == "soma[0]" and "dend_5[0]" in names and "dend_19[0]" in names
    assert m.section("soma") is m.sections[0] and m.section("dend_5[0]").type == 5
    with pytest.raises(hc.InputError, match="no section"):
        m.section("apic[0]")


def test_soma_figure_draws(tmp_path):
    path = Path(__file__).parent.parent / "docs" / "soma_figure.py"
    spec = importlib.util.spec_from_file_location("soma_figure", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(str(tmp_path / "soma.png"))
    assert out.stat().st_size > 10_000

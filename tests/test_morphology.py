"""Morphology builders and queries, checked against geometry worked out by hand."""

import math

import networkx as nx
import numpy as np
import pytest

import hhcable as hc
from hhcable.discretize import discretize
from hhcable.morphology import RALL_DIAM_RATIO

SIMPLE = """1 1 0 0 0 1 -1
2 3 0 1 0 1 1
3 3 0 5 0 1 2
4 3 -3 9 0 0.5 3
5 3 4 8 0 0.5 3
6 3 4 12 0 0.5 5
7 3 1 12 0 0.5 5
8 2 0 -4 0 1 1
"""


def test_cable_is_one_section():
    m = hc.Morphology.cable(length=100.0, diam=2.0)
    assert len(m.sections) == 1 and m.tips() == [1] and m.path_length(0, 1) == 100.0


def test_queries_on_a_small_tree():
    m = hc.parse_swc(SIMPLE)
    # sections as NEURON's Import3d makes them: the soma; the trunk 2-3 starting at its own
    # first sample; daughters starting at their parent's sample; the one-sample axon starting
    # at the soma centre (with its own radius)
    runs = [(s.start, s.samples) for s in m.sections if s.type != 1]
    assert runs == [(None, (2, 3)), (3, (4,)), (3, (5,)), (5, (6,)), (5, (7,)), (1, (8,))]
    assert [s.parent_x for s in m.sections[1:]] == [0.5, 1.0, 1.0, 1.0, 1.0, 0.5]
    assert m.tips() == [4, 6, 7, 8]
    assert m.path_length(4, 6) == pytest.approx(math.hypot(3, 4) + math.hypot(4, 3) + 4.0)
    assert m.path_length(8, 4) == pytest.approx(4 + 5 + 5)
    assert [m.branch_order(s) for s in (2, 3, 4, 5, 6, 8)] == [0, 0, 1, 1, 2, 0]
    assert m.region("axon") == [8] and m.region(2) == [8]
    assert m.region("dend") == [2, 3, 4, 5, 6, 7]
    assert m.children(3) == [4, 5]
    with pytest.raises(hc.InputError):
        m.region("spine")


def test_y_junction_geometry():
    m = hc.Morphology.y_junction(100.0, 2.0, (50.0, 80.0), (1.0, 1.5), angle=90.0)
    assert len(m.sections) == 3
    assert m.path_length(0, 3) == pytest.approx(150.0) and m.path_length(0, 5) == pytest.approx(180.0)
    comp = discretize(m, Ra=100.0, cm=1.0, max_segment=10.0)
    # cylinders: area π d L per branch, and, as NEURON counts a step in diameter between two
    # coincident 3-d points, the annulus π (r0 + r1) |r0 - r1| where each daughter starts
    annuli = math.pi * (1.5 * 0.5 + 1.75 * 0.25)
    assert comp.area.sum() == pytest.approx(math.pi * (2.0 * 100 + 1.0 * 50 + 1.5 * 80) + annuli, rel=1e-12)
    with pytest.raises(hc.InputError):
        hc.Morphology.y_junction(100.0, 2.0, (50.0,), (1.0, 1.0))


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_binary_tree_counts_and_rall_diameters(depth):
    m = hc.Morphology.binary_tree(depth, length=100.0, diam=4.0, length_ratio=0.5, rall=True)
    assert len(m.sections) == 2 ** (depth + 1) - 1
    assert len(m.tips()) == 2 ** depth
    for tip in m.tips():
        assert m.branch_order(tip) == depth
        assert m.path_length(m.root, tip) == pytest.approx(100.0 * (2 - 0.5 ** depth))
        assert 2 * m.graph.nodes[tip]["radius"] == pytest.approx(4.0 * RALL_DIAM_RATIO ** depth)
    # the 3/2 rule at every branch point
    for node in m.graph:
        kids = [c for c in m.children(node) if m.graph.nodes[c]["x"] == m.graph.nodes[node]["x"]]
        if len(kids) == 2:
            parent_d = 2 * m.graph.nodes[node]["radius"]
            assert sum((2 * m.graph.nodes[c]["radius"]) ** 1.5 for c in kids) == pytest.approx(parent_d ** 1.5)
    with pytest.raises(hc.InputError):
        hc.Morphology.binary_tree(2, 100.0, 4.0, diam_ratio=0.5, rall=True)


def test_soma_with_dendrites():
    m = hc.Morphology.soma_with_dendrites(soma_diam=20.0, n_dendrites=4, dend_length=200.0, dend_diam=2.0,
                                          axon_length=500.0, axon_diam=1.0)
    assert nx.is_arborescence(m.graph)
    assert len(m.region("dend")) == 8 and len(m.region("axon")) == 2
    comp = discretize(m, Ra=100.0, cm=1.0, max_segment=10.0)
    assert comp.area[comp.type == 1].sum() == pytest.approx(4 * math.pi * 10.0 ** 2)  # the sphere's area
    assert m.soma == "three-point"
    tips = m.tips()
    assert sorted(round(m.path_length(m.root, t)) for t in tips if m.graph.nodes[t]["type"] != 1) == \
        [200] * 4 + [500]
    no_axon = hc.Morphology.soma_with_dendrites(n_dendrites=1, axon_length=0.0)
    assert no_axon.region("axon") == []


def test_builders_reject_bad_values():
    for kwargs in ({"soma_diam": -1.0}, {"n_dendrites": 1.5}, {"axon_length": np.nan}):
        with pytest.raises(hc.InputError):
            hc.Morphology.soma_with_dendrites(**kwargs)
    with pytest.raises(hc.InputError):
        hc.Morphology.binary_tree(-1, 100.0, 1.0)

"""Discretisation: segment counts, areas and axial resistances against closed forms and NEURON."""

import numpy as np
import pytest

import hhcable as hc
from hhcable.discretize import discretize, lambda_ac
from hhcable.units import MOHM_PER_OHM_CM_PER_UM


def test_cylinder_area_and_resistance_closed_form():
    length, diam, Ra = 1000.0, 2.0, 100.0
    comp = discretize(hc.Morphology.cable(length, diam), Ra=Ra, cm=1.0, max_segment=100.0)
    assert comp.n_compartments == 10 and comp.n_nodes == 12
    # Lateral area of a cylinder, π d L, split evenly (exact up to round-off).
    np.testing.assert_allclose(comp.area[1:-1], np.pi * diam * 100.0, rtol=1e-12)
    assert comp.area[0] == comp.area[-1] == 0.0
    # Axial resistance 4 Ra ℓ / (π d²) between neighbours: half a segment to the ends.
    r_seg = 4 * Ra * 100.0 / (np.pi * diam**2) * MOHM_PER_OHM_CM_PER_UM
    np.testing.assert_allclose(1 / comp.g_axial[2:-1], r_seg, rtol=1e-12)
    np.testing.assert_allclose(1 / comp.g_axial[[1, -1]], r_seg / 2, rtol=1e-12)
    np.testing.assert_allclose(comp.distance[1:-1], np.arange(50.0, 1000.0, 100.0))


def test_tapered_cable_matches_frustum_formulas():
    # A truncated cone: lateral area π (r0 + r1) sqrt(L² + (r0 - r1)²) and axial resistance
    # (Ra / π) L / (r0 r1) -- the standard frustum integrals.
    length, d0, d1, Ra = 500.0, 4.0, 1.0, 150.0
    comp = discretize(hc.Morphology.cable(length, d0, diam_end=d1), Ra=Ra, cm=1.0, max_segment=7.0)
    r0, r1 = d0 / 2, d1 / 2
    assert comp.area.sum() == pytest.approx(np.pi * (r0 + r1) * np.hypot(length, r0 - r1), rel=1e-12)
    total = (1 / comp.g_axial[1:]).sum()
    assert total == pytest.approx(Ra / np.pi * length / (r0 * r1) * MOHM_PER_OHM_CM_PER_UM, rel=1e-12)


@pytest.mark.parametrize("length, diam, d_lambda", [(1000.0, 1.0, 0.1), (30_000.0, 476.0, 0.1), (200.0, 0.3, 0.05)])
def test_d_lambda_rule_matches_neuron(length, diam, d_lambda):
    neuron = pytest.importorskip("neuron")
    h = neuron.h
    h.load_file("stdlib.hoc")
    sec = h.Section(name="d_lambda_check")
    sec.L, sec.diam, sec.Ra, sec.cm = length, diam, 100.0, 1.0
    # NEURON's own rule from its documentation (stdlib.hoc's lambda_f at 100 Hz).
    expected = int((sec.L / (d_lambda * h.lambda_f(100, sec=sec)) + 0.9) / 2) * 2 + 1
    comp = discretize(hc.Morphology.cable(length, diam), Ra=100.0, cm=1.0, d_lambda=d_lambda)
    assert comp.n_compartments == expected
    assert lambda_ac(diam, 100.0, 1.0) == pytest.approx(h.lambda_f(100, sec=sec), rel=1e-12)


def test_tapered_geometry_matches_neuron_pt3d():
    neuron = pytest.importorskip("neuron")
    h = neuron.h
    length, d0, d1, Ra, nseg = 300.0, 6.0, 2.0, 80.0, 5
    sec = h.Section(name="taper_check")
    sec.pt3dadd(0, 0, 0, d0)
    sec.pt3dadd(length, 0, 0, d1)
    sec.nseg, sec.Ra = nseg, Ra
    comp = discretize(hc.Morphology.cable(length, d0, diam_end=d1), Ra=Ra, cm=1.0, max_segment=length / nseg)
    np.testing.assert_allclose(comp.area[1:-1], [seg.area() for seg in sec], rtol=1e-9)
    # NEURON's ri(x) is the resistance (MΩ) from the previous node to this one.
    np.testing.assert_allclose(1 / comp.g_axial[1:-1], [seg.ri() for seg in sec], rtol=1e-9)


def test_locations_follow_neuron_segment_rule():
    cell = hc.Cell(hc.Morphology.cable(1000.0, 1.0), max_segment=100.0)
    # x maps to segment int(x * nseg), the end points to the zero-area end nodes.
    assert cell.locate(0.0) == 0 and cell.locate(1.0) == 11
    assert cell.locate(0.05) == 1 and cell.locate(0.5) == 6 and cell.locate(0.99) == 10
    for bad in (-0.1, 1.1, float("nan")):
        with pytest.raises(hc.InputError, match=r"\[0, 1\]"):
            cell.locate(bad)
    with pytest.raises(hc.InputError, match="exactly one"):
        cell.locate({"x": 0.1, "swc_id": 1})
    with pytest.raises(hc.InputError, match="no sample"):
        cell.locate({"swc_id": 99})


@pytest.mark.parametrize("kwargs, key", [
    ({"max_segment": 0.0}, "max_segment"),
    ({"max_segment": -5.0}, "max_segment"),
    ({"d_lambda": float("inf")}, "d_lambda"),
    ({"max_segment": 10.0, "Ra": 0.0}, "Ra"),
])
def test_bad_discretisation_is_an_input_error(kwargs, key):
    with pytest.raises(hc.InputError) as err:
        hc.Cell(hc.Morphology.cable(100.0, 1.0), **kwargs)
    assert err.value.key == key


def test_bad_cable_is_an_input_error():
    for args in ((0.0, 1.0), (100.0, -1.0), (100.0, float("nan"))):
        with pytest.raises(hc.InputError):
            hc.Morphology.cable(*args)

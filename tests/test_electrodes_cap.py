"""The compound action potential of example 31's nerve (200 myelinated fibres in two
populations, one batch): two separate waves, whose velocities read from the CAP's troughs
at two electrodes match the fibres' own node-to-node velocities within 5 %."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "31_compound_action_potential.py"


@pytest.fixture(scope="module")
def nerve():
    spec = importlib.util.spec_from_file_location("example_31", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.simulate()


def test_nerve_has_two_hundred_fibres_of_two_populations(nerve):
    module, (_, _, own, diams, population, _) = nerve
    assert len(diams) >= 200 and set(population) == {0, 1}
    # The populations' velocity ranges do not overlap: separate waves are possible at all.
    assert own[population == 0].max() < own[population == 1].min()


def test_cap_shows_two_waves_whose_velocities_are_the_fibres(nerve):
    """Each population makes its own wave at both electrodes; the trough's delay between
    electrodes 15 mm apart gives the wave's velocity.  The wave is a sum over the population
    weighted towards its thicker fibres (larger currents) and the nodes' places against the
    electrode jitter each fibre's trough by up to an internode's travel time, so it matches
    the population's mean velocity to a few percent: the acceptance bound is 5 %."""
    module, (t, caps, own, _, population, from_cap) = nerve
    for cap in caps:
        first, second = module.waves(t, cap)
        between = (t > first) & (t < second)
        assert cap[between].max() > 0  # back over the baseline between the troughs: two waves
    for k in (0, 1):
        mean = own[population == k].mean()
        print(f"population {k}: CAP {from_cap[k]:.3f} m/s, fibres' mean {mean:.3f} m/s")
        assert from_cap[k] == pytest.approx(mean, rel=0.05)

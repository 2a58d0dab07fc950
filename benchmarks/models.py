"""The benchmark models, built identically for hhcable and for NEURON.

Each model is a list of morphologies (one per independent cell) with the same membrane
(HH everywhere), a current step at each cell's root end, one voltage probe per cell, and a
fixed step and duration.  The NEURON side is built from hhcable's own morphology and
discretisation (3-d points of every sample, the same ``nseg`` per section), so both
simulators solve the same compartments.
"""

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import hhcable as hc

MORPHOLOGIES = Path(__file__).resolve().parent.parent / "morphologies"


@dataclass
class Model:
    """One benchmark: cells, membrane, stimulus and run settings (NEURON's units)."""

    name: str
    description: str
    morphologies: list
    max_segment: float  # µm
    dt: float  # ms
    tstop: float  # ms
    celsius: float = 6.3  # °C
    Ra: float = 35.4  # Ω·cm
    amps: list = field(default_factory=list)  # nA, one per cell
    delay: float = 0.5  # ms
    dur: float = 0.5  # ms
    peak_memory_limit_mb: float = None
    #: Where the equivalence check reads first-crossing times: ``(cell, section index, x)``
    #: (NEURON's ``sec(x)``), and the pairs of those probes ``(i, j)`` between which it
    #: measures a velocity.  Empty: the tips of the first cell (the 1 end of every leaf
    #: section), latencies only.
    probes: list = field(default_factory=list)
    pairs: list = field(default_factory=list)
    #: Where the current step goes in every cell: ``(section index, x)``.
    stim_at: tuple = (0, 0.0)
    #: In the default list of ``run.py`` and ``peers.py`` (the smoke-test model is not).
    default: bool = True


def real_neuron(filename):
    """A reconstruction shipped in morphologies/."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hc.SWCWarning)  # the files' own quirks, reported by tests
        return hc.read_swc(MORPHOLOGIES / filename)


def cable_probes(n_cells, length, positions):
    """Probes at ``positions`` (µm from the stimulated end) of every cell of unbranched
    cables of ``length`` µm, and the velocity pairs (consecutive positions of each cell)."""
    probes = [(c, 0, p / length) for c in range(n_cells) for p in positions]
    k = len(positions)
    pairs = [(c * k + i, c * k + i + 1) for c in range(n_cells) for i in range(k - 1)]
    return {"probes": probes, "pairs": pairs}


def models():
    """All benchmark models by name."""
    diams = np.geomspace(0.5, 20.0, 64)
    out = [
        Model("squid", "squid axon 476 µm x 30 mm, 10 µm segments, 18.5 °C",
              [hc.Morphology.cable(30000.0, 476.0)], 10.0, 0.0025, 4.0, celsius=18.5, amps=[100000.0],
              dur=0.3, **cable_probes(1, 30000.0, [7500.0, 22500.0])),
        Model("axon30k", "HH axon 10 µm x 30 mm, 1 µm segments, 6.3 °C",
              [hc.Morphology.cable(30000.0, 10.0)], 1.0, 0.01, 5.0, amps=[20.0],
              **cable_probes(1, 30000.0, [1000.0, 4000.0])),
        Model("batch64", "64 HH axons 0.5-20 µm x 2 mm, 1,000 segments each, one batch",
              [hc.Morphology.cable(2000.0, float(d)) for d in diams], 2.0, 0.025, 10.0,
              amps=[float(0.5 * d**1.5) for d in diams], **cable_probes(64, 2000.0, [500.0, 1500.0])),
        Model("batch64x3k", "64 HH axons 0.5-20 µm x 6 mm, 3,000 segments each, one batch",
              [hc.Morphology.cable(6000.0, float(d)) for d in diams], 2.0, 0.025, 10.0,
              amps=[float(0.5 * d**1.5) for d in diams], **cable_probes(64, 6000.0, [500.0, 1500.0])),
        Model("axon1M", "HH axon 1 µm x 1 m, 1 µm segments, 120 steps",
              [hc.Morphology.cable(1e6, 1.0)], 1.0, 0.025, 3.0, amps=[1.0], peak_memory_limit_mb=2048.0,
              **cable_probes(1, 1e6, [100.0, 300.0])),
        Model("tiny", "HH axon 2 µm x 2 mm, 10 µm segments (smoke tests)",
              [hc.Morphology.cable(2000.0, 2.0)], 10.0, 0.025, 5.0, amps=[1.0],
              default=False, **cable_probes(1, 2000.0, [500.0, 1500.0])),
    ]
    out += [
        Model("btree", "binary tree, 10 levels (1023 sections), 3/2 rule, trunk 200 µm x 4 µm, segments <= 5 µm",
              [hc.Morphology.binary_tree(9, length=200.0, diam=4.0, length_ratio=2 ** (-1 / 3), rall=True)],
              5.0, 0.025, 20.0, amps=[5.0]),
        Model("ca1", "CA1 pyramidal cell nrn__c91662.swc, HH everywhere, segments <= 5 µm",
              [real_neuron("nrn__c91662.swc")], 5.0, 0.025, 20.0, amps=[5.0]),
        Model("purkinje", "Purkinje cell (759 sections), HH everywhere, segments <= 5 µm",
              [real_neuron("arbor-thorstenhater__purkinje_mouse_original.swc")], 5.0, 0.025, 20.0, amps=[5.0]),
    ]
    return {m.name: m for m in out}

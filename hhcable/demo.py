"""The demonstration run: Hodgkin & Huxley's 1952 squid giant axon.

A 30 mm axon of 476 µm diameter (Ra 35.4 Ω·cm, 18.5 °C) is stimulated at one end; the
action potential travels at about 18.7 m/s (Hodgkin & Huxley computed 18.8 m/s).  The
length only has to hold the spike (about 12 mm from foot to repolarisation at this speed)
clear of both ends while the velocity is measured between 30 % and 70 %; example 08 runs
40 mm with coarser compartments and Crank–Nicolson and finds the same velocity within its
discretisation error.  The stimulus, about twice threshold, brings the stimulated end to
about +25 mV, below E_Na (+50 mV).
"""

from .analysis import conduction_velocity
from .cell import Cell
from .channels import HH
from .morphology import Morphology
from .simulation import Simulation

#: Geometry and conditions of Hodgkin & Huxley (1952), part III.
SQUID = {"length": 30_000.0, "diam": 476.0, "Ra": 35.4, "celsius": 18.5}
#: Where the probes sit, as fractions of the axon's length.
PROBE_X = (0.1, 0.3, 0.5, 0.7, 0.9)
#: The stimulus at the 0 end: onset (ms), duration (ms) and amplitude (nA).
STIMULUS = {"delay": 0.5, "dur": 0.3, "amp": 7000.0}


def squid_axon(max_segment=10.0, dt=0.0025, celsius=SQUID["celsius"], method="backward_euler"):
    """The squid-axon simulation, set up with probes, crossings and a space–time recording.

    Parameters
    ----------
    max_segment : float, µm
    dt : float, ms
    celsius : float, °C
    method : str

    Returns
    -------
    Simulation
    """
    axon = Morphology.cable(length=SQUID["length"], diam=SQUID["diam"])
    cell = Cell(axon, cm=1.0, Ra=SQUID["Ra"], celsius=celsius, max_segment=max_segment)
    cell.insert(HH())
    sim = Simulation(cell, dt=dt, method=method)
    sim.iclamp(at=0.0, **STIMULUS)
    for x in PROBE_X:
        sim.probe(f"x = {x:g}", at=x)
    sim.record_crossings(threshold=0.0)
    sim.record_space(every=max(1, int(round(0.02 / dt))))
    return sim


def run_demo(tstop=4.0, **kwargs):
    """Run :func:`squid_axon`; return the result, its velocity between 30 % and 70 % and the
    stimuli (``Simulation.stimuli``, for the figure)."""
    sim = squid_axon(**kwargs)
    result = sim.run(tstop)
    return result, conduction_velocity(result, start=0.3, stop=0.7), sim.stimuli

"""hhcable: Hodgkin–Huxley action potentials in axons and dendritic trees.

Units are NEURON's: µm, ms, mV, nA, µF/cm², S/cm², Ω·cm, °C, and m/s for velocities.
"""

from .analysis import conduction_velocity, spike_features, spike_times, threshold_crossings
from .batch import Batch
from .cell import Cell, Location
from .channels import CHANNELS, HH, Channel, MRGNode, Param, Passive, alpha_beta, inf_tau, ohmic
from .fibres import Fibre, mrg_fibre, myelinated_fibre, node_velocity
from .errors import HHCableError, HHCableWarning, InputError, MemoryLimitError, SimulationError, SWCError
from .morphology import Morphology
from .simulation import Result, Simulation
from .stimulus import IClamp, PulseTrain, Waveform
from .swc import SWCWarning, parse_swc, read_swc, write_swc
from .sweep import sweep

__version__ = "0.1.0"

__all__ = [
    "Cell", "Location", "Morphology", "Simulation", "Result", "Batch",
    "HH", "Passive", "Channel", "CHANNELS", "Param", "alpha_beta", "inf_tau", "ohmic",
    "IClamp", "PulseTrain", "Waveform",
    "conduction_velocity", "spike_features", "spike_times", "threshold_crossings",
    "HHCableError", "HHCableWarning", "InputError", "MemoryLimitError", "SimulationError", "SWCError",
    "read_swc", "parse_swc", "write_swc", "SWCWarning",
    "sweep",
    "Fibre", "myelinated_fibre", "mrg_fibre", "node_velocity", "MRGNode",
]

"""hhcable: Hodgkin–Huxley action potentials in axons and dendritic trees.

Units are NEURON's: µm, ms, mV, nA, µF/cm², S/cm², Ω·cm, °C, and m/s for velocities.
"""

from .analysis import conduction_velocity, spike_features, spike_times, threshold_crossings
from .batch import Batch
from .cell import Cell, Location
from .channels import CHANNELS, HH, Channel, MRGNode, Param, Passive, alpha_beta, inf_tau, ohmic
from .extracellular import (DEFAULT_SIGMA_S_M, PointElectrode, activating_function, line_source_potential,
                            point_source_potential)
from .fibres import Fibre, mrg_fibre, myelinated_fibre, node_velocity
from .errors import HHCableError, HHCableWarning, InputError, MemoryLimitError, SimulationError, SWCError
from .morphology import Morphology
from .simulation import Result, Simulation
from .stimulus import Biphasic, BiphasicTrain, IClamp, PulseTrain, Waveform
from .swc import SWCWarning, parse_swc, read_swc, write_swc
from .sweep import sweep

__version__ = "0.1.0"

__all__ = [
    "Cell", "Location", "Morphology", "Simulation", "Result", "Batch",
    "HH", "Passive", "Channel", "CHANNELS", "Param", "alpha_beta", "inf_tau", "ohmic",
    "IClamp", "PulseTrain", "Waveform", "Biphasic", "BiphasicTrain",
    "PointElectrode", "activating_function", "point_source_potential", "line_source_potential", "DEFAULT_SIGMA_S_M",
    "conduction_velocity", "spike_features", "spike_times", "threshold_crossings",
    "HHCableError", "HHCableWarning", "InputError", "MemoryLimitError", "SimulationError", "SWCError",
    "read_swc", "parse_swc", "write_swc", "SWCWarning",
    "sweep",
    "Fibre", "myelinated_fibre", "mrg_fibre", "node_velocity", "MRGNode",
]

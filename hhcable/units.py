"""Named unit conversions between NEURON's units and the solver's internal ones.

hhcable takes and returns NEURON's units (µm, ms, mV, nA, µF/cm², S/cm², Ω·cm, m/s).
Inside the solver each compartment carries absolute quantities in a consistent set:
current nA, voltage mV, conductance µS (nA/mV), capacitance nF (µS·ms).
"""

#: cm² per µm²
CM2_PER_UM2 = 1e-8
#: µS per (S/cm² × µm²): converts a conductance density times an area to µS
US_PER_S_CM2_UM2 = CM2_PER_UM2 * 1e6
#: nA per (mA/cm² × µm²): converts a current density times an area to nA
NA_PER_MA_CM2_UM2 = CM2_PER_UM2 * 1e6
#: nF per (µF/cm² × µm²): converts a specific capacitance times an area to nF
NF_PER_UF_CM2_UM2 = CM2_PER_UM2 * 1e3
#: MΩ per (Ω·cm × µm / µm²): axial resistance of a length over a cross-section
MOHM_PER_OHM_CM_PER_UM = 1e4 * 1e-6
#: m/s per µm/ms
M_S_PER_UM_MS = 1e-3
#: µm per cm
UM_PER_CM = 1e4

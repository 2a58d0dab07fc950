"""Every value that enters hhcable is checked: the issue's reproducers, one by one.

Model files, the command line and the Python API share one validation layer
(:mod:`hhcable.validate`): a wrong type, a non-finite number or a value outside a physically
sane range ends as an InputError naming the key and the reason (exit status 2 and one line on
the command line), before anything large is allocated.  Stimuli deliver their exact charge
over each step.  The summary of a run is strict JSON.
"""

import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad

import hhcable as hc
from hhcable import cli, validate
from hhcable.errors import HHCableWarning
from hhcable.modelfile import summarize
from hhcable.stimulus import IClamp, PulseTrain, Waveform

from test_cli import SMALL



def run_cli(tmp_path, capsys, text, *extra):
    model = tmp_path / "model.toml"
    model.write_text(text, encoding="utf-8")
    code = cli.main(["run", str(model), "--json", *map(str, extra)])
    out, err = capsys.readouterr()
    return code, out, err, model


# -- the reproducers, through the model file and the command line --------------------
REPRODUCERS = {
    "x as a string": ('at = { x = 0.5 }', 'at = { x = "0.5" }', "probe[0].at", "without quotes"),
    "node as a string": ('at = { x = 0.5 }', 'at = { node = "3" }', "probe[0].at", "whole number"),
    "node truncated": ('at = { x = 0.5 }', 'at = { node = 1.5 }', "probe[0].at", "whole number, got 1.5"),
    "swc_id as a list": ('at = { x = 0.5 }', 'at = { swc_id = [1] }', "probe[0].at", "whole number"),
    "x as a bool": ('at = { x = 0.5 }', 'at = { x = true }', "probe[0].at", "must be a number, got True"),
    "where as a list": ('where = "all"', 'where = []', "biophysics.mechanisms[0].where", "region"),
    "dt of 5e-324": ("dt_ms = 0.025", "dt_ms = 5e-324", "simulation.dt_ms", "nanosecond"),
    "length of 1e308": ("length_um = 2000", "length_um = 1e308", "morphology.cable.length_um", "metre"),
    "celsius of 10000": ("celsius = 6.3", "celsius = 10000", "biophysics.celsius", "from 0 to 60 °C"),
    "tstop of 1e12": ("tstop_ms = 8", "tstop_ms = 1e12", "simulation.tstop_ms", "steps"),
    "v_init of 1e300": ("v_init_mV = -65", "v_init_mV = 1e300", "simulation.v_init_mV", "1 V"),
    "v_init of -1e300": ("v_init_mV = -65", "v_init_mV = -1e300", "simulation.v_init_mV", "1 V"),
    "amp of -1e9": ("amp_nA = 1.0", "amp_nA = -1e9", "stimulus[0].amp_nA", "electrode"),
    "swc path with NUL": ("cable = { length_um = 2000, diam_um = 2 }", 'swc = "a\\u0000b.swc"',
                          "morphology.swc", "NUL"),
    "diameter of a metre": ("diam_um = 2", "diam_um = 1e6", "morphology.cable.diam_um", "centimetre"),
    "huge integer": ("amp_nA = 1.0", "amp_nA = 99999999999999999999999999999999999999999999", "amp_nA",
                     "electrode"),
    "too many compartments": ("max_segment_um = 20", "max_segment_um = 1e-4", "discretization.max_segment_um",
                              "compartments"),
    "space_every beyond reason": ("threshold_mV = 0", "threshold_mV = 0\n[recording]\nspace_every = 1e30",
                                  "recording.space_every", "whole number"),
    "waveform with a bool": ('kind = "iclamp"\nat = { x = 0.0 }\ndelay_ms = 0.5\ndur_ms = 0.5\namp_nA = 1.0',
                             'kind = "waveform"\nat = { x = 0.0 }\nt_ms = [0, 1]\namp_nA = [0, true]',
                             "stimulus[0].amp_nA[1]", "number"),
}


@pytest.mark.parametrize("name", sorted(REPRODUCERS))
def test_reproducer_exits_2_with_one_line(tmp_path, capsys, name):
    old, new, key, words = REPRODUCERS[name]
    assert old in SMALL
    code, out, err, model = run_cli(tmp_path, capsys, SMALL.replace(old, new, 1), "--out", tmp_path / "r.npz")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("hhcable: error: ")
    assert str(model) in err and key in err and words in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.toml"]  # nothing written


def test_dt_too_long_for_a_spike_warns_in_one_line(tmp_path, capsys):
    code, out, err, model = run_cli(tmp_path, capsys, SMALL.replace("dt_ms = 0.025", "dt_ms = 0.5"))
    assert code == 0
    json.loads(out)
    assert err.count("\n") == 1 and err.startswith("hhcable: warning: ")
    assert str(model) in err and "simulation.dt_ms" in err and "resolve a spike" in err


def test_long_steps_are_fine_on_a_passive_cell(tmp_path, capsys):
    text = SMALL.replace('name = "hh"', 'name = "pas"').replace("dt_ms = 0.025", "dt_ms = 0.5")
    text = text[: text.index("[velocity]")].replace('[[probe]]\nname = "m_gate"\nat = { x = 0.5 }\nvar = "hh.m"\n', "")
    code, out, err, _ = run_cli(tmp_path, capsys, text)
    assert code == 0 and err == ""


@pytest.mark.parametrize("which", ["model file", "swc"])
def test_a_fifo_is_refused_without_blocking(tmp_path, which):
    # In a child process with a timeout: opening a FIFO for reading used to wait forever.
    fifo = tmp_path / ("model.toml" if which == "model file" else "p")
    os.mkfifo(fifo)
    model = fifo if which == "model file" else tmp_path / "model.toml"
    if which == "swc":
        model.write_text(SMALL.replace("cable = { length_um = 2000, diam_um = 2 }", 'swc = "p"'))
    done = subprocess.run([sys.executable, "-m", "hhcable", "run", str(model)], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent)))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert str(fifo) in done.stderr and "FIFO" in done.stderr


def test_command_line_argument_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["animate", "m.toml", "out.gif", "--frames", "many"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hhcable: error: argument --frames")


def test_model_file_with_a_bom_and_one_not_utf8(tmp_path, capsys):
    model = tmp_path / "model.toml"
    model.write_bytes(b"\xef\xbb\xbf" + SMALL.encode())
    assert cli.main(["run", str(model), "--json"]) == 0
    model.write_bytes(SMALL.replace("mid", "m\xe9d").encode("latin-1"))
    assert cli.main(["run", str(model), "--json"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert "not UTF-8" in err and "line" in err


# -- the Python API -----------------------------------------------------------------------------
def cable(**kwargs):
    return hc.Morphology.cable(**{"length": 200.0, "diam": 2.0, **kwargs})


@pytest.mark.parametrize("kwargs, key, words", [
    ({"celsius": 10000}, "celsius", "°C"),
    ({"celsius": True}, "celsius", "number"),
    ({"Ra": "35.4"}, "Ra", "without quotes"),
    ({"cm": float("nan")}, "cm", "finite"),
    ({"cm": 1e-9}, "cm", "µF/cm²"),
    ({"max_segment": 0}, "max_segment", "> 0"),
    ({"max_segment": 1e-6}, "max_segment", "compartments"),
    ({"d_lambda": 1e-9}, "d_lambda", "from 0.0001"),
])
def test_cell_refuses_with_the_argument_named(kwargs, key, words):
    args = {"max_segment": 20.0, **kwargs}
    with pytest.raises(hc.InputError) as err:
        hc.Cell(cable(), **args)
    assert err.value.key == key and words in str(err.value)


def test_cell_refuses_sizes_no_neuron_has():
    with pytest.raises(hc.InputError, match="metre"):
        hc.Cell(cable(length=1e308), max_segment=20.0)
    with pytest.raises(hc.InputError, match="diameter"):
        hc.Cell(cable(diam=1e-300), max_segment=20.0)
    with pytest.raises(hc.InputError, match="Morphology"):
        hc.Cell("axon.swc")


def test_compartment_bound_is_an_upper_bound_and_refuses_before_allocating():
    # A long thin cable under d_lambda: the bound counts the compartments the rule makes.
    morph = hc.Morphology.cable(length=50_000.0, diam=0.2)
    cell = hc.Cell(morph, d_lambda=0.1, Ra=100.0)
    bound = 50_000.0 / (0.1 * float(hc.discretize.lambda_ac(0.2, 100.0, 1.0))) + 2
    assert cell.n_compartments <= bound
    with pytest.raises(hc.InputError, match="compartments"):  # some 3e7 compartments, over MAX_COMPARTMENTS
        hc.Cell(hc.Morphology.cable(length=500_000.0, diam=0.2), d_lambda=1e-4, Ra=100.0)


@pytest.mark.parametrize("at, words", [
    ({"x": "0.5"}, "without quotes"), ({"node": "3"}, "whole number"), ({"node": 1.5}, "whole number"),
    ({"swc_id": [1]}, "whole number"), ({"x": True}, "number"), (hc.Location(node=2.0), "whole number"),
    ({"x": None}, "exactly one"), ([0.5], "a location is"),
])
def test_locations_of_the_wrong_type_are_refused(at, words):
    cell = hc.Cell(cable(), max_segment=20.0)
    with pytest.raises(hc.InputError, match=words):
        cell.locate(at)


def test_where_of_the_wrong_type_is_refused():
    cell = hc.Cell(cable(), max_segment=20.0)
    for where in ([], {"a": 1}, None, 2.5):
        with pytest.raises(hc.InputError, match="region"):
            cell.insert(hc.HH(), where=where)


@pytest.mark.parametrize("make, key", [
    (lambda: IClamp(0, 1, True), "amp_nA"),
    (lambda: IClamp("1", 1, 1), "delay_ms"),
    (lambda: IClamp(0, 1, -1e9), "amp_nA"),
    (lambda: IClamp(0, float("inf"), 1), "dur_ms"),
    (lambda: PulseTrain(0, 1, 1, 2, 1.5), "number"),
    (lambda: PulseTrain(0, 1, 1, 2, 10**30), "number"),
    (lambda: Waveform([0, 1], [0, True]), "amp_nA[1]"),
    (lambda: Waveform([0, float("nan")], [0, 1]), "t_ms[1]"),
    (lambda: Waveform("01", [0, 1]), "t_ms"),
    (lambda: Waveform(np.zeros((2, 2)), [0, 1]), "t_ms"),
])
def test_stimuli_refuse_with_the_key(make, key):
    with pytest.raises(hc.InputError) as err:
        make()
    assert err.value.key == key


def test_steps_and_dt_checks():
    assert validate.n_steps(8.0, 0.025) == 320
    with pytest.raises(hc.InputError, match="shorter than one step"):
        validate.n_steps(0.01, 0.025)
    with pytest.raises(hc.InputError, match="steps"):
        validate.n_steps(1e12, 0.025)
    cell = hc.Cell(cable(), max_segment=20.0)
    cell.insert(hc.HH())
    with pytest.warns(HHCableWarning, match="resolve a spike"):
        validate.warn_if_dt_too_long(0.5, cell)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate.warn_if_dt_too_long(validate.SPIKE_DT_MS, cell)


def test_every_model_key_with_a_unit_has_a_range():
    from hhcable.modelfile import SECTIONS

    keys = {k for section in SECTIONS.values() for k in section} | {"length_um", "diam_um", "diam_end_um"}
    with_unit = [k for k in keys if k.endswith(("_um", "_ms", "_mV", "_nA", "_cm2", "_cm", "_MB")) or k == "celsius"]
    assert with_unit and all(validate.limits_for(k) is not None for k in with_unit)


# -- stimuli: the exact charge of every step ------------------------------------------------------
STIMULI = [IClamp(0.31, 0.007, 2.0), IClamp(1.0, 2.5, -0.3), PulseTrain(0.2, 0.013, 1.5, 0.4, 3),
           Waveform([0.05, 0.3, 0.31, 1.7], [0.0, 4.0, -1.0, 0.5])]


@pytest.mark.parametrize("stim", STIMULI, ids=lambda s: type(s).__name__)
def test_charge_is_the_integral_of_the_current(stim):
    # Reference: scipy's adaptive quadrature of the current itself, told where it jumps.
    edges = sorted({0.0, *getattr(stim, "t", ()), *(getattr(stim, "delay", 0) + k * getattr(stim, "interval", 0)
                                                     + d for k in range(3)
                                                     for d in (0, getattr(stim, "dur", 0)))})
    for t in np.linspace(0.0, 3.0, 61):
        ref = quad(lambda s: float(stim.current(s)), 0.0, t, points=[e for e in edges if 0 < e < t] or None,
                   limit=200, epsabs=1e-13)[0]
        # Tolerance: quad's absolute error on a piecewise-linear integrand, far below a pC.
        assert float(stim.charge(t)) == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize("stim", STIMULI, ids=lambda s: type(s).__name__)
def test_step_means_conserve_charge_whatever_the_step(stim):
    for dt in (0.001, 0.025, 0.1, 0.7):
        start = np.arange(0.0, 3.0, dt)
        total = stim.mean(start, dt).sum() * dt
        # Summing the steps telescopes to the charge up to the last step's end (round-off only).
        assert total == pytest.approx(float(stim.charge(start[-1] + dt)), rel=1e-12, abs=1e-15)
    # A pulse shorter than a step, between two step midpoints, is not lost.
    short = IClamp(0.0301, 0.001, 5.0)
    assert short.current(np.arange(0, 1, 0.025) + 0.0125).sum() == 0.0  # midpoint sampling misses it
    assert short.mean(np.arange(0, 1, 0.025), 0.025).sum() * 0.025 == pytest.approx(0.005, rel=1e-12)


def test_a_pulse_shorter_than_dt_delivers_its_charge_in_a_run():
    # A short passive cable is isopotential: a brief charge Q raises it by Q/C (C = cm × area),
    # which backward Euler gives as Q/(C + G dt) in the step that holds the pulse.
    cell = hc.Cell(hc.Morphology.cable(length=20.0, diam=20.0), max_segment=20.0)
    cell.insert(hc.Passive(g=1e-4, e=-65.0))
    dt, amp, dur = 0.025, 2.0, 0.002
    sim = hc.Simulation(cell, dt=dt, v_init=-65.0)
    sim.iclamp(at=0.5, delay=0.5031, dur=dur, amp=amp)  # between two step midpoints
    sim.probe("v", at=0.5)
    res = sim.run(1.0)
    area = cell.compartments.area.sum()
    capacitance = area * 1e-8 * 1.0 * 1e3  # nF
    conductance = area * 1e-8 * 1e-4 * 1e6  # µS
    jump = amp * dur / (capacitance + conductance * dt)  # mV
    # Tolerance: the axial coupling of the two zero-area end nodes changes nothing; round-off only.
    assert res["v"].max() + 65.0 == pytest.approx(jump, rel=1e-6)


# -- results are strict JSON -------------------------------------------------------------------------
def small_result():
    cell = hc.Cell(cable(), max_segment=20.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.025)
    sim.iclamp(0.0, 0.5, 0.5, 1.0)
    sim.probe("mid", 0.5)
    sim.record_crossings(0.0)
    return sim.run(3.0)


def test_summary_of_nan_traces_is_strict_json_with_nulls():
    res = small_result()
    res.traces[:] = np.nan
    res.crossings[:] = np.nan
    out = summarize(res, {"from": 0.2, "to": 0.8})
    text = json.dumps(out, allow_nan=False)  # raises on NaN or Infinity
    assert out["probes"]["mid"]["v_max_mV"] is None and out["probes"]["mid"]["spike_times_ms"] == []
    assert out["velocity"]["cv_m_s"] is None and "did not reach" in out["velocity"]["error"]
    assert "NaN" not in text and "Infinity" not in text


def test_velocity_fit_on_infinite_crossings_is_an_error_not_a_linalg_error():
    res = small_result()
    res.crossings[:] = np.inf
    with pytest.raises(hc.InputError, match="did not reach"):
        hc.conduction_velocity(res, 0.2, 0.8)
    out = summarize(res, {"from": 0.2, "to": 0.8})
    assert out["velocity"]["cv_m_s"] is None


# -- blow-ups: exit status 3, one line naming the time and the place ------------------------------
BLOW_UP = (SMALL.replace("length_um = 2000", "length_um = 200").replace("dt_ms = 0.025", "dt_ms = 1.0")
           .replace("tstop_ms = 8", "tstop_ms = 20").replace('"backward_euler"', '"crank_nicolson"')
           .replace("amp_nA = 1.0", "amp_nA = 1000.0").replace("dur_ms = 0.5", "dur_ms = 10"))


def test_a_run_that_blows_up_exits_3_naming_time_and_place(tmp_path, capsys):
    # Crank–Nicolson with 1 ms steps and a 1 µA current on a thin cable diverges (checked
    # with the loop on main: NaN voltages within a few steps).
    code, out, err, model = run_cli(tmp_path, capsys, BLOW_UP, "--out", tmp_path / "r.npz")
    assert code == 3 and out == ""
    errors = [line for line in err.splitlines() if line.startswith("hhcable: error: ")]
    assert len(errors) == 1 and errors[0] == err.splitlines()[-1]
    assert "ms" in errors[0] and "node" in errors[0]
    assert not (tmp_path / "r.npz").exists()


def test_simulation_error_is_exit_3_and_one_line(tmp_path, capsys, monkeypatch):
    # The command line's side of the contract, whoever raises the error.
    from hhcable.modelfile import Model

    def blow_up(self):
        raise hc.SimulationError("voltage is not finite at t = 3.25 ms at node 17;\ntry a smaller dt_ms",
                                 t=3.25, node=17)

    monkeypatch.setattr(Model, "run", blow_up)
    code, out, err, _ = run_cli(tmp_path, capsys, SMALL, "--out", tmp_path / "r.npz")
    assert code == 3 and out == "" and err.count("\n") == 1
    assert "t = 3.25 ms at node 17; try a smaller dt_ms" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.toml"]


def test_nothing_non_finite_reaches_json_even_before_the_engine_guard(tmp_path, capsys):
    code, out, err, _ = run_cli(tmp_path, capsys, BLOW_UP)
    assert code in (0, 3)
    if code == 0:
        json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in --json output"))
        assert math.isfinite(json.loads(out)["tstop_ms"])

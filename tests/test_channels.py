"""Channels as descriptions: a user's channel on both backends and in model files, mistakes
caught when the channel is made, and run state that never leaks between cells."""

import copy
import json
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

import hhcable as hc
from hhcable import cli
from hhcable.channels import load_channel_file

DATA = Path(__file__).resolve().parent / "data"
#: Whole runs through spikes: the two backends solve the voltage by different eliminations
#: (Hines against LAPACK chains), ~1e-12 mV apart per step, amplified by each upstroke (see
#: test_kernels.py); the issue's bound, 1e-8 mV, is far below any real error (>= 1e-3 mV).
RUN_ATOL_MV = 1e-8


def user_module():
    spec = importlib.util.spec_from_file_location("user_channels_for_tests", DATA / "user_channels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KSlow = user_module().KSlow


def axon(backend, vhalf=-40.0, gkbar=0.002, celsius=6.3, use_table=True, amp=0.6, hh=None, kslow=None):
    cell = hc.Cell(hc.Morphology.cable(1500.0, 2.0), celsius=celsius, max_segment=20.0)
    cell.insert(hh or hc.HH(use_table=use_table))
    cell.insert(kslow or KSlow(gkbar=gkbar, vhalf=vhalf, use_table=use_table))
    sim = hc.Simulation(cell, dt=0.025, backend=backend)
    sim.iclamp(at=0.0, delay=1.0, dur=30.0, amp=amp)
    sim.probe("far", at=0.9)
    sim.probe("n", at=0.5, var="kslow.n")
    sim.probe("ik", at=0.5, var="kslow.ik")
    sim.record_crossings(0.0)
    return sim


@pytest.mark.parametrize("use_table", [True, False])
def test_user_channel_runs_equal_on_numpy_and_numba(use_table):
    pytest.importorskip("numba")
    a = axon("numpy", use_table=use_table).run(35.0)
    b = axon("numba", use_table=use_table).run(35.0)
    assert a.info["backend"] == "numpy" and b.info["backend"] == "numba"
    assert len(hc.spike_times(a.t, a["far"])) >= 1  # a run with spikes
    assert a["n"].max() > 2 * a["n"][0]  # the user's gate did move
    np.testing.assert_allclose(b.traces, a.traces, rtol=0, atol=RUN_ATOL_MV)
    np.testing.assert_allclose(b.crossings, a.crossings, rtol=0, atol=1e-9)


def test_user_channel_slows_firing_as_its_gate_opens():
    # Physics, not plumbing: the slow K current opens during the stimulus and opposes it, so
    # the cell fires less with it than without it (spike-frequency adaptation).
    with_k = axon("auto", gkbar=0.002, amp=1.0).run(35.0)
    without = axon("auto", gkbar=0.0, amp=1.0).run(35.0)
    assert len(hc.spike_times(with_k.t, with_k["far"])) < len(hc.spike_times(without.t, without["far"]))


def test_user_channel_from_a_model_file_through_hhcable_run(capsys):
    code = cli.main(["run", str(DATA / "user_channel.toml"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["probes"]["far"]["spike_times_ms"]  # it spiked
    # The same model built in Python gives the same spikes.
    cell = hc.Cell(hc.Morphology.cable(2000.0, 2.0), max_segment=20.0)
    cell.insert(hc.HH())
    cell.insert(load_channel_file(DATA / "user_channels.py")["kslow"](gkbar=0.002, vhalf=-40.0))
    sim = hc.Simulation(cell, dt=0.025)
    sim.iclamp(at=0.0, delay=1.0, dur=40.0, amp=0.6)
    sim.probe("far", at=0.9)
    res = sim.run(50.0)
    np.testing.assert_allclose(summary["probes"]["far"]["spike_times_ms"], hc.spike_times(res.t, res["far"]),
                               atol=1e-6)


def test_shared_instance_at_two_temperatures_in_one_batch_equals_each_alone():
    # The reproducer of the issue: one HH() in two cells at 6.3 and 25 °C run as one batch
    # gave the 6.3 °C cell 25 °C kinetics.  Run state now lives in the engine.
    shared = hc.HH()
    before = copy.deepcopy(shared.__dict__)

    def make(celsius, backend):
        cell = hc.Cell(hc.Morphology.cable(1000.0, 2.0), celsius=celsius, max_segment=20.0)
        cell.insert(shared)
        sim = hc.Simulation(cell, dt=0.025, backend=backend)
        sim.iclamp(at=0.0, delay=1.0, dur=1.0, amp=1.0)
        sim.probe("mid", at=0.5)
        return sim

    for backend in ("numpy", "numba") if importlib.util.find_spec("numba") else ("numpy",):
        alone = [make(c, backend).run(8.0) for c in (6.3, 25.0)]
        together = hc.Batch([make(c, backend) for c in (6.3, 25.0)], backend=backend).run(8.0)
        for a, b in zip(alone, together):
            np.testing.assert_allclose(b.traces, a.traces, rtol=0, atol=1e-9)  # round-off (test_batch)
        cold, warm = (hc.spike_times(r.t, r["mid"])[0] for r in together)
        assert cold > warm + 0.5  # ms: the kinetics really differ (3.6 against 2.5 ms in the issue)
    assert shared.__dict__ == before  # the user's object was only read


def test_cells_differing_in_kinetics_table_and_temperature_keep_their_own_in_a_batch():
    # The option-merge reproducer: a batch merged insertions by type and kept the first
    # cell's options.  Here every cell differs in what cannot be merged into per-node
    # parameters (a kinetic parameter, the table switch, the temperature) and in what can
    # (a maximal conductance); each must equal its run alone.
    variants = [dict(vhalf=-40.0), dict(vhalf=-30.0, gkbar=0.004), dict(use_table=False),
                dict(celsius=16.3, vhalf=-35.0)]
    for backend in ("numpy", "numba") if importlib.util.find_spec("numba") else ("numpy",):
        alone = [axon(backend, **kw).run(20.0) for kw in variants]
        together = hc.Batch([axon(backend, **kw) for kw in variants], backend=backend).run(20.0)
        for a, b in zip(alone, together):
            np.testing.assert_allclose(b.traces, a.traces, rtol=0, atol=1e-9)
        assert not np.allclose(together[0]["n"], together[1]["n"])  # they did differ


def test_user_object_is_never_written_by_a_run():
    k, h = KSlow(), hc.HH(use_table=False)
    before = copy.deepcopy((k.__dict__, h.__dict__))
    axon("auto", hh=h, kslow=k).run(5.0)
    hc.Batch([axon("numpy", hh=h, kslow=k), axon("numpy", hh=h, kslow=k, celsius=20.0)]).run(5.0)
    assert (k.__dict__, h.__dict__) == before


# -- mistakes in a channel: one line, naming the channel and the item, when it is made --------
def define(body, name="bad"):
    namespace = {"hc": hc, "np": np}
    exec(f"class Bad(hc.Channel):\n    name = {name!r}\n" + body, namespace)
    return namespace["Bad"]


@pytest.mark.parametrize("body, key, message", [
    ("    parameters = {'gbar': hc.Param(0.1, 'S/cm²')}\n"
     "    currents = {'ix': hc.ohmic('ex', lambda gbar: gbar)}\n", "bad.ix", "reversal potential 'ex'"),
    ("    parameters = {'gbar': hc.Param(0.1, 'S/cm²'), 'e': hc.Param(0.0, 'mV')}\n"
     "    currents = {'ix': hc.ohmic('e', lambda gbar, q: gbar * q)}\n", "bad.ix", "uses 'q', which is neither"),
    ("    parameters = {'gbar': hc.Param(unit='S/cm²')}\n", "bad.gbar", "finite default"),
    ("    parameters = {'v': hc.Param(1.0, 'mV')}\n", "bad.v", "reserved"),
    ("    parameters = {'m': hc.Param(1.0, '1')}\n"
     "    @hc.alpha_beta\n    def m(v):\n        return v, v\n", "bad", "both a gate and a parameter"),
    ("    @hc.inf_tau\n    def m(v, shift):\n        return v, v\n", "bad.m", "uses 'shift'"),
])
def test_bad_descriptions_are_refused_when_the_class_is_made(body, key, message):
    with pytest.raises(hc.InputError, match=message) as err:
        define(body)
    assert err.value.key == key


@pytest.mark.parametrize("rates, message", [
    ("return np.exp(v / 10.0) * np.nan, 1.0 + 0 * v", r"alpha is nan at v = -200 mV"),
    ("return 0.1 + 0 * v, -1.0 + 0 * v", r"beta is -1.0 at v = -200 mV"),
    ("return 1.0 / (v + 60.0), 1.0 + 0 * v", "alpha is "),
])
def test_bad_rates_are_refused_when_the_channel_is_made(rates, message):
    cls = define(f"    @hc.alpha_beta\n    def m(v):\n        {rates}\n")
    with pytest.raises(hc.InputError, match=message) as err:
        cls()
    assert err.value.key == "bad.m"


def test_negative_time_constant_names_the_voltage():
    cls = define("    @hc.inf_tau\n    def a(v):\n        return 0.5 + 0 * v, (v - 10.0) / 10.0\n")
    with pytest.raises(hc.InputError, match=r"tau is -21.0 at v = -200 mV") as err:
        cls()
    assert err.value.key == "bad.a"


def test_kinetics_with_if_are_refused_with_advice():
    cls = define("    @hc.inf_tau\n    def a(v):\n        return (0.5, 1.0) if v > 0 else (0.2, 1.0)\n")
    with pytest.raises(hc.InputError, match="no 'if'"):
        cls()


def test_bad_parameter_values_and_options():
    with pytest.raises(hc.InputError, match="must be true or false") as err:
        hc.HH(use_table="x")
    assert err.value.key == "hh.use_table"
    with pytest.raises(hc.InputError, match=">= 0.0") as err:
        KSlow(gkbar=-1.0)
    assert err.value.key == "kslow.gkbar"
    with pytest.raises(hc.InputError, match="unknown parameter"):
        KSlow(gnabar=1.0)


def test_model_file_errors_name_the_file_and_the_channel(tmp_path, capsys):
    model = (DATA / "user_channel.toml").read_text()
    cases = {
        "clash.py": ("import hhcable as hc\nclass Mine(hc.Channel):\n    name = 'hh'\n", "name of a built-in"),
        "empty.py": ("x = 1\n", "defines no channel"),
        "broken.py": ("import numpy as np\n\ndef f(:\n", "broken.py:3"),
        "raises.py": ("import numpy as np\nraise RuntimeError('boom')\n", "raises.py:2: RuntimeError: boom"),
        "badgate.py": ("import hhcable as hc\nclass K(hc.Channel):\n    name = 'k2'\n"
                       "    parameters = {'gbar': hc.Param(0.1, 'S/cm²'), 'e': hc.Param(-80.0, 'mV')}\n"
                       "    currents = {'ik': hc.ohmic('e', lambda gbar, w: gbar * w)}\n", "k2.ik"),
    }
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text(text)
        path = tmp_path / f"{name}.toml"
        path.write_text(model.replace('"user_channels.py"', f'"{name}"'))
        code, (out, err) = cli.main(["run", str(path)]), capsys.readouterr()
        assert code == 2, (name, err)
        assert expected in err and len(err.strip().splitlines()) == 1, (name, err)
    missing = tmp_path / "missing.toml"
    missing.write_text(model.replace('"user_channels.py"', '"nowhere.py"'))
    assert cli.main(["run", str(missing)]) == 2
    assert "nowhere.py: no such file" in capsys.readouterr().err


def test_unknown_mechanism_in_a_model_file_says_how_to_add_one(tmp_path, capsys):
    shutil.copy(DATA / "user_channels.py", tmp_path)
    text = (DATA / "user_channel.toml").read_text().replace('name = "kslow"', 'name = "kfast"')
    (tmp_path / "m.toml").write_text(text)
    assert cli.main(["run", str(tmp_path / "m.toml")]) == 2
    assert "mechanism_files" in capsys.readouterr().err


def test_connor_stevens_is_type_one_and_hh_type_two():
    # Dayan & Abbott (2001), section 6.2: with the A-current the Connor-Stevens model fires at
    # arbitrarily low rates near threshold (type I); HH starts at ~50 Hz (type II, the 1952
    # equations' Hopf onset).  Rates over 0.5-1 s of a step, just above each onset.
    area = 1e5  # µm²: 1 nA is 1 µA/cm²
    diam = float(np.sqrt(area / np.pi))

    def lowest_rate(channels, amps, v_init):
        sims = []
        for amp in amps:
            cell = hc.Cell(hc.Morphology.cable(diam, diam), max_segment=2 * diam)
            for ch in channels():
                cell.insert(ch)
            sim = hc.Simulation(cell, dt=0.025, v_init=v_init)
            sim.iclamp(at=0.5, delay=0.0, dur=1000.0, amp=amp)
            sim.probe("v", at=0.5)
            sims.append(sim)
        rates = [np.sum(hc.spike_times(r.t, r["v"]) > 500.0) / 0.5 for r in hc.Batch(sims).run(1000.0)]
        return min(r for r in rates if r > 0)

    cs = lowest_rate(lambda: [hc.channels.NaCS(), hc.channels.KdrCS(), hc.channels.KACS(),
                              hc.Passive(g=3e-4, e=-17.0)], np.arange(7.5, 9.51, 0.125), -68.0)
    hh = lowest_rate(lambda: [hc.HH()], np.arange(5.5, 7.51, 0.125), -65.0)
    assert cs < 10.0 and hh > 40.0  # Hz

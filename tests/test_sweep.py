"""Sweeps (hhcable.sweep): the table equals the same models run one by one, here and on a
Dask cluster; failing models are rows with their error; a lost worker and a killed sweep
still give the whole table, no row lost or doubled.

The reference is each model built from its own model file (the base with the values set by
hand here) and run alone with ``Model.run``: no batch, no chunk, no Dask, no Parquet.  A
batch equals its simulations run alone to round-off (tests/test_batch.py); measures taken
after a spike amplify that to ~1e-12, so 1e-9 (the issue's criterion) has room and still
catches any mix-up of models, values or units.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")

import hhcable as hc  # noqa: E402
from hhcable import cli, modelfile, sweepspec  # noqa: E402
from hhcable.sweep import sweep  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
TOL = 1e-9  # the criterion for "the same models run one by one" (see the module docstring)

AXON = """
[morphology]
cable = {{ length_um = {length}, diam_um = 2.0 }}
[discretization]
max_segment_um = {segment}
[biophysics]
celsius = 6.3
{mechanism_files}
mechanisms = [ {{ name = "hh", where = "all" }} {extra} ]
[[stimulus]]
kind = "iclamp"
at = {{ x = 0.0 }}
delay_ms = 0.1
dur_ms = 0.2
amp_nA = 5.0
[[probe]]
name = "far"
at = {{ x = 0.9 }}
[simulation]
dt_ms = 0.025
tstop_ms = {tstop}
[velocity]
from = {{ x = 0.3 }}
to = {{ x = 0.7 }}
"""


def write_model(folder, name="axon.toml", length=600.0, segment=10.0, tstop=2.0, user_channel=False):
    """A small HH axon (60 compartments, 2 ms by default); with ``user_channel``, plus KSlow from tests/data."""
    files = extra = ""
    if user_channel:
        shutil.copy(DATA / "user_channels.py", folder / "user_channels.py")
        files, extra = 'mechanism_files = ["user_channels.py"]', ', { name = "kslow", gkbar = 0.002 }'
    path = folder / name
    path.write_text(AXON.format(length=length, segment=segment, tstop=tstop, mechanism_files=files, extra=extra))
    return path


def write_sweep(folder, body, model="axon.toml", name="sweep.toml"):
    path = folder / name
    path.write_text(f'[sweep]\nmodel = "{model}"\n' + body)
    return path


GRID = """measures = ["velocity", "spike_count", "spike_times", "v_max"]
chunk_size = 2
[[parameter]]
key = "morphology.cable.diam_um"
values = [1.0, 2.0, 4.0]
[[parameter]]
key = "biophysics.celsius"
values = [6.3, 18.5]
"""
GRID_POINTS = [(d, c) for d in (1.0, 2.0, 4.0) for c in (6.3, 18.5)]


def alone(model_path, diam=None, celsius=None, amp=None, mechanism=None):
    """One model built from the base file with values set by hand, run alone: its summary."""
    doc = modelfile.tomllib.loads(Path(model_path).read_text())
    if diam is not None:
        doc["morphology"]["cable"]["diam_um"] = diam
    if celsius is not None:
        doc["biophysics"]["celsius"] = celsius
    if amp is not None:
        doc["stimulus"][0]["amp_nA"] = amp
    for index, key, value in mechanism or ():
        doc["biophysics"]["mechanisms"][index][key] = value
    return modelfile.from_dict(doc, str(model_path)).run()[1]


def assert_row_matches(row, summary, probe="far"):
    ref = summary["probes"][probe]
    assert row["error"] is None
    assert row["n_compartments"] == summary["n_compartments"]
    assert row["cv_m_s"] == pytest.approx(summary["velocity"]["cv_m_s"], rel=TOL)
    assert row[f"{probe}.spike_count"] == len(ref["spike_times_ms"]) >= 1
    np.testing.assert_allclose(row[f"{probe}.spike_times_ms"], ref["spike_times_ms"], rtol=0, atol=TOL)
    assert row[f"{probe}.v_max_mV"] == pytest.approx(ref["v_max_mV"], rel=TOL)


def assert_grid_table(table, model_path):
    rows = table.to_pylist()
    assert [r["model"] for r in rows] == list(range(len(GRID_POINTS)))
    for row, (d, c) in zip(rows, GRID_POINTS):
        assert (row["morphology.cable.diam_um"], row["biophysics.celsius"]) == (d, c)
        assert_row_matches(row, alone(model_path, diam=d, celsius=c))


def without_wall(table):
    return table.drop_columns(["wall_s"])


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 worker processes started by the tests, and its client."""
    distributed = pytest.importorskip("distributed")
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.CRITICAL) as lc, distributed.Client(lc) as client:
        yield client


def test_table_equals_models_run_one_by_one_in_this_process(tmp_path, capsys):
    model = write_model(tmp_path)
    table = sweep(write_sweep(tmp_path, GRID), tmp_path / "out.parquet", workers=0)
    assert_grid_table(table, model)
    assert len(list((tmp_path / "out.parquet").glob("part-*.parquet"))) == 3  # 6 models, 2 per chunk
    progress = capsys.readouterr().err
    assert "3/3 chunks" in progress and "ETA" in progress
    # Parquet readers see one table in the folder (the manifest and hidden files skipped).
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "out.parquet").num_rows == 6


def test_table_equals_models_run_one_by_one_on_a_local_cluster(tmp_path, cluster):
    model = write_model(tmp_path)
    table = sweep(write_sweep(tmp_path, GRID), tmp_path / "out.parquet", client=cluster, progress=False)
    assert_grid_table(table, model)
    assert set(table.column("backend").to_pylist()) <= {"numba", "numpy"}


def test_a_user_channel_file_works_on_the_workers(tmp_path, cluster):
    model = write_model(tmp_path, user_channel=True)
    body = """measures = ["velocity", "spike_count", "spike_times", "v_max"]
[[parameter]]
key = "biophysics.mechanisms[1].vhalf"
values = [-50.0, -40.0, -30.0]
"""
    table = sweep(write_sweep(tmp_path, body), tmp_path / "out.parquet", client=cluster, progress=False)
    for row, vhalf in zip(table.to_pylist(), (-50.0, -40.0, -30.0)):
        assert row["biophysics.mechanisms[1].vhalf"] == vhalf
        assert_row_matches(row, alone(model, mechanism=[(1, "vhalf", vhalf)]))


def test_random_samples_are_drawn_from_the_seed(tmp_path):
    write_model(tmp_path)
    body = """samples = 3
seed = 7
[[parameter]]
key = "biophysics.celsius"
values = [6.3, 18.5]
[[parameter]]
key = "biophysics.mechanisms[0].gnabar"
uniform = [0.1, 0.14]
"""
    spec = sweepspec.load(write_sweep(tmp_path, body))
    draws = np.random.default_rng(7).uniform(0.1, 0.14, 3)
    # Every grid point gets the same draws, in order; a second reading gives the same models.
    assert [p["biophysics.celsius"] for p in spec.points] == [6.3] * 3 + [18.5] * 3
    np.testing.assert_array_equal([p["biophysics.mechanisms[0].gnabar"] for p in spec.points], np.tile(draws, 2))
    assert sweepspec.load(write_sweep(tmp_path, body)).points == spec.points
    table = sweep(write_sweep(tmp_path, body), tmp_path / "out.parquet", workers=0, progress=False)
    assert table.column("biophysics.mechanisms[0].gnabar").to_pylist() == [p["biophysics.mechanisms[0].gnabar"]
                                                                             for p in spec.points]


@pytest.mark.filterwarnings("ignore::hhcable.HHCableWarning")  # dt 0.25 ms is too long, on purpose
def test_failing_models_are_rows_with_their_error(tmp_path):
    model = write_model(tmp_path)
    # Crank-Nicolson at dt 0.25 ms: 5 nA runs, 1e4 nA (a valid value) makes the extrapolation
    # v' = 2 v_half - v oscillate without bound, so the run blows up.
    model.write_text(model.read_text().replace("dt_ms = 0.025", 'dt_ms = 0.25\nmethod = "crank_nicolson"'))
    # One chunk holds them all: the batch blows up, then its models run one by one.
    body = """chunk_size = 4
measures = ["velocity", "spike_count", "spike_times", "v_max"]
[[parameter]]
key = "morphology.cable.diam_um"
values = [2.0, -1.0]
[[parameter]]
key = "stimulus[0].amp_nA"
values = [5.0, 1e4]
"""
    rows = sweep(write_sweep(tmp_path, body), tmp_path / "out.parquet", workers=0, progress=False).to_pylist()
    assert len(rows) == 4
    assert_row_matches(rows[0], alone(model, diam=2.0, amp=5.0))
    assert rows[1]["error"].startswith("SimulationError: the voltage stopped being finite")
    for row in rows[2:]:
        assert row["error"].startswith("InputError:") and "diam_um" in row["error"]
        assert row["cv_m_s"] is None and row["far.spike_count"] is None


def test_threshold_by_bisection_brackets_the_spike(tmp_path):
    model = write_model(tmp_path)
    body = """measures = ["threshold"]
[[parameter]]
key = "morphology.cable.diam_um"
values = [1.0, 2.0]
[[parameter]]
key = "biophysics.celsius"
values = [6.3, 18.5]
[threshold]
probe = "far"
high_nA = 4.0
tolerance_nA = 0.02
"""
    rows = sweep(write_sweep(tmp_path, body), tmp_path / "out.parquet", workers=0, progress=False).to_pylist()
    for row in rows:
        d, c, th = row["morphology.cable.diam_um"], row["biophysics.celsius"], row["threshold_nA"]
        assert row["error"] is None and 0 < th < 4.0
        # Within half the tolerance of the amplitude where a spike first reaches the probe.
        assert alone(model, diam=d, celsius=c, amp=th + 0.02)["probes"]["far"]["spike_times_ms"]
        assert not alone(model, diam=d, celsius=c, amp=th - 0.02)["probes"]["far"]["spike_times_ms"]
    # Thicker axons need more current (threshold grows with the membrane area to charge).
    by = {(r["morphology.cable.diam_um"], r["biophysics.celsius"]): r["threshold_nA"] for r in rows}
    assert by[2.0, 6.3] > by[1.0, 6.3] and by[2.0, 18.5] > by[1.0, 18.5]


def test_resume_runs_only_missing_chunks_and_gives_the_same_table(tmp_path):
    write_model(tmp_path)
    path, out = write_sweep(tmp_path, GRID), tmp_path / "out.parquet"
    first = sweep(path, out, workers=0, progress=False)
    (out / "part-00001.parquet").unlink()
    (out / ".part-00002.parquet.tmp").write_bytes(b"half a file")  # a write cut short
    kept = (out / "part-00000.parquet").stat().st_mtime_ns
    again = sweep(path, out, workers=0, progress=False)
    assert without_wall(again).equals(without_wall(first))
    assert (out / "part-00000.parquet").stat().st_mtime_ns == kept  # not run again
    assert sorted(p.name for p in out.iterdir()) == ["_sweep.json"] + [f"part-0000{i}.parquet" for i in range(3)]


def test_csv_output_holds_the_same_rows(tmp_path):
    write_model(tmp_path)
    path = write_sweep(tmp_path, GRID)
    table = sweep(path, tmp_path / "out.csv", workers=0, progress=False)
    with open(tmp_path / "out.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == table.num_rows == 6
    for row, ref in zip(rows, table.to_pylist()):
        assert float(row["cv_m_s"]) == ref["cv_m_s"]
        assert [float(x) for x in row["far.spike_times_ms"].split()] == ref["far.spike_times_ms"]


def test_cli_writes_the_table_and_the_figure(tmp_path, capsys):
    write_model(tmp_path)
    path = write_sweep(tmp_path, GRID + '[plot]\ny = "cv_m_s"\n')
    status = cli.main(["sweep", str(path), "--out", str(tmp_path / "out.parquet"), "--workers", "0",
                       "--plot", str(tmp_path / "fig.png"), "--quiet"])
    out = capsys.readouterr()
    assert status == 0 and "6 models (0 with errors)" in out.out and out.err == ""
    assert (tmp_path / "fig.png").stat().st_size > 1000


BAD = [
    ('[[parameter]]\nkey = "biophysics.celcius"\nvalues = [1.0]\n', "parameter[0].key", "celcius"),
    ('[[parameter]]\nkey = "biophysics.mechanisms[3].gnabar"\nvalues = [1.0]\n', "parameter[0].key", "mechanisms"),
    ('[[parameter]]\nkey = "biophysics.mechanisms[0].gnabr"\nvalues = [1.0]\n', "parameter[0].key", "gnabr"),
    ('[[parameter]]\nkey = "biophysics.celsius"\nlinspace = [1.0, 2.0]\n', "parameter[0].linspace", "3 finite"),
    ('[[parameter]]\nkey = "biophysics.celsius"\nuniform = [1.0, 2.0]\n', "parameter[0].uniform", "seed"),
    ('[[parameter]]\nkey = "biophysics.celsius"\nvalues = [1.0, "a"]\n', "parameter[0].values", "all be numbers"),
    ('measures = ["speed"]\n[[parameter]]\nkey = "biophysics.celsius"\nvalues = [1.0]\n', "sweep.measures",
     "speed"),
    ('measures = ["threshold"]\n[[parameter]]\nkey = "biophysics.celsius"\nvalues = [1.0]\n', "threshold",
     "missing"),
]


@pytest.mark.parametrize("body, key, words", BAD, ids=[b[1] + "-" + b[2] for b in BAD])
def test_bad_sweep_files_exit_2_naming_file_and_key(tmp_path, capsys, body, key, words):
    write_model(tmp_path)
    path = write_sweep(tmp_path, body)
    status = cli.main(["sweep", str(path), "--out", str(tmp_path / "out.parquet"), "--workers", "0"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert str(path) in err and key in err and words in err
    assert not (tmp_path / "out.parquet").exists()  # nothing written


def test_keys_left_at_their_default_can_be_varied(tmp_path):
    model = write_model(tmp_path)
    body = """measures = ["velocity", "spike_count", "spike_times", "v_max"]
[[parameter]]
key = "morphology.cable.diam_end_um"
values = [1.0]
[[parameter]]
key = "biophysics.cm_uF_cm2"
values = [0.8]
"""
    (row,) = sweep(write_sweep(tmp_path, body), tmp_path / "out.parquet", workers=0, progress=False).to_pylist()
    doc = modelfile.tomllib.loads(model.read_text())
    doc["morphology"]["cable"]["diam_end_um"], doc["biophysics"]["cm_uF_cm2"] = 1.0, 0.8
    assert_row_matches(row, modelfile.from_dict(doc, str(model)).run()[1])


def test_the_benchmark_runs(tmp_path):
    """Smoke run of benchmarks/sweep.py (in this process only, NEURON on 2 models): it writes its figures."""
    out = tmp_path / "sweep.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sweep.py"), "--models", "20", "--workers", "0",
                           "--neuron-models", "2", "--json", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["runs"]["0"]["n_models"] == 20 and report["runs"]["0"]["errors"] == 0
    if report["neuron"] is not None:
        # The same cable in NEURON: the two record crossing times differently (NEURON's NetCon
        # against hhcable's interpolated crossings), a fraction of a 0.025 ms step over a
        # ~2 ms path; measured ~1e-3, so 1 % has room and still catches a wrong model.
        assert report["neuron"]["max_rel_cv_difference"] < 0.01


def test_another_sweep_in_the_same_output_is_refused(tmp_path, capsys):
    write_model(tmp_path)
    out = tmp_path / "out.parquet"
    sweep(write_sweep(tmp_path, GRID), out, workers=0, progress=False)
    other = write_sweep(tmp_path, GRID.replace("18.5", "20.0"), name="other.toml")
    assert cli.main(["sweep", str(other), "--out", str(out), "--workers", "0"]) == 2
    assert "different sweep" in capsys.readouterr().err
    assert len(list(out.glob("part-*"))) == 3  # untouched


def test_a_split_batch_equals_one_batch(tmp_path, cluster):
    """``Batch.run(tstop, client=...)``: parts on the workers, results as one batch's; a
    user's channel class travels to workers that never loaded its file."""
    user = hc.channels.load_channel_file(DATA / "user_channels.py")["kslow"]
    sims = []
    for diam in (1.0, 2.0, 3.0, 4.0, 5.0):
        cell = hc.Cell(hc.Morphology.cable(length=600.0, diam=diam), max_segment=10.0)
        cell.insert(hc.HH())
        cell.insert(user(gkbar=0.002))
        sim = hc.Simulation(cell, dt=0.025)
        sim.iclamp(at=0.0, delay=0.1, dur=0.2, amp=2.0 * diam)
        sim.probe("far", at=0.9)
        sim.probe("n", at=0.5, var="kslow.n")
        sims.append(sim)
    whole = hc.Batch(sims).run(2.0)
    split = hc.Batch(sims).run(2.0, client=cluster)
    assert len(split) == len(sims)
    for sim, a, b in zip(sims, whole, split):
        assert b.cell is sim.cell
        np.testing.assert_allclose(b.traces, a.traces, rtol=0, atol=TOL)
    assert max(r.info["batch_size"] for r in split) < len(sims)  # it was split


SLOW = """chunk_size = 2
backend = "numpy"
measures = ["velocity", "spike_count", "v_max"]
[[parameter]]
key = "morphology.cable.diam_um"
linspace = [2.0, 4.0, 16]
"""


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """16 models of 4,000 compartments × 400 steps in 8 chunks of a few tenths of a second
    (numpy: fresh workers start without loading the compiled kernel), and their table run here."""
    folder = tmp_path_factory.mktemp("slow")
    write_model(folder, length=4000.0, segment=1.0, tstop=10.0)
    path = write_sweep(folder, SLOW)
    return path, sweep(path, folder / "reference.parquet", workers=0, progress=False)


def test_a_sweep_killed_and_started_again_gives_the_whole_table(tmp_path, slow):
    pytest.importorskip("distributed")
    (path, reference), out = slow, tmp_path / "out.parquet"
    command = [sys.executable, "-m", "hhcable", "sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("part-*.parquet")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        written = len(list(out.glob("part-*.parquet")))
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, mid-sweep
    finally:
        proc.wait()
    assert 1 <= written < 8, f"killed after {written} of 8 chunks"
    again = subprocess.run(command, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    table = sweep(path, out, workers=0, progress=False)  # nothing left to run: reads the table
    assert table.column("model").to_pylist() == list(range(16))
    assert without_wall(table).equals(without_wall(reference))


def test_a_worker_killed_mid_sweep_loses_no_row(tmp_path, cluster, slow):
    (path, reference), out = slow, tmp_path / "out.parquet"
    pids = cluster.run(os.getpid)
    done = []
    runner = threading.Thread(target=lambda: done.append(sweep(path, out, client=cluster, progress=False)))
    runner.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and runner.is_alive() and time.monotonic() < deadline:
        busy = [address for address, tasks in cluster.processing().items() if tasks and address in pids]
        if list(out.glob("part-*.parquet")) and busy:
            killed = busy[0]
            os.kill(pids[killed], signal.SIGKILL)
        time.sleep(0.02)
    runner.join(timeout=120)
    assert killed is not None, "no worker was busy to kill"
    (table,) = done
    assert table.column("model").to_pylist() == list(range(16))
    assert without_wall(table).equals(without_wall(reference))

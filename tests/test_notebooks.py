"""The course notebooks in examples/notebooks run from top to bottom without an error
(executed with nbclient in a fresh kernel; skipped where Jupyter's packages are missing)."""

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "examples" / "notebooks").glob("*.ipynb"))
#: Seconds a cell may take (the first run compiles the kernel).
CELL_TIMEOUT_S = 120


def test_notebooks_exist():
    assert {p.stem for p in NOTEBOOKS} >= {"hh_neuron", "cables", "lab"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    if path.stem == "lab":
        pytest.importorskip("panel")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    if path.stem == "lab":  # the app itself rendered as a Panel view
        assert any("application/vnd.holoviews_exec.v0+json" in o.get("data", {}) for o in outputs)
    else:
        assert any("image/png" in o.get("data", {}) for o in outputs), "no figure was drawn"

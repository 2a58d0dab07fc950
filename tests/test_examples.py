"""Every numbered example runs (Agg backend) and writes non-empty figures whose axes carry
labels with units.  Examples are discovered, so new ones are tested without editing this file."""

import importlib.util
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.figure  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from test_plotting import assert_labelled  # noqa: E402

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("[0-9][0-9]_*.py"))


def _load(path):
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_examples_exist():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_writes_labelled_figures(path, tmp_path, monkeypatch):
    saved = []
    original = matplotlib.figure.Figure.savefig

    def checked_savefig(fig, *args, **kwargs):
        assert_labelled(fig)
        saved.append(fig)
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", checked_savefig)
    module = _load(path)
    out = module.main(str(tmp_path))
    paths = [out] if isinstance(out, (str, Path)) else list(out)
    assert paths, "main() returned no paths"
    for p in map(Path, paths):
        assert p.is_file() and p.stat().st_size > 1000, f"{p} missing or nearly empty"
        assert p.parent == tmp_path, f"{p} written outside outdir"
    assert saved, "no figure was saved"
    plt.close("all")

"""``hhcable lab``: an interactive teaching lab in the browser or inline in Jupyter.

The experiments (:mod:`hhcable.lab.experiments`) are plain functions that run the engine and
return numbers and a figure; :mod:`hhcable.lab.app` puts Panel controls around them.  Panel
is an optional dependency (``pip install hhcable[lab]``); only the app needs it.
"""

from .experiments import EXPERIMENTS, Outcome

__all__ = ["EXPERIMENTS", "Outcome"]

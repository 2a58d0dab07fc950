"""pytest: the doctest collection imports every module; the Panel app only where Panel is installed."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("panel") else ["app.py"]

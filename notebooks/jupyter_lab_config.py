"""JupyterLab's configuration for the lessons (``make lab`` passes it with ``--config``).

Saving a lesson (``notebooks/NN_name.ipynb``) goes through ``build.py``'s
``pre_save_hook``, which stores it in the form ``make notebooks`` writes: the
Python version the kernel reports and the cell metadata JupyterLab adds are
dropped, so looking at a lesson, or running it, leaves ``git status`` clean.
"""

import importlib.util
import warnings
from pathlib import Path

c = get_config()  # noqa: F821 - Jupyter's config loader provides get_config

_spec = importlib.util.spec_from_file_location(
    "autograd_lite_lessons_build", Path(__file__).with_name("build.py")
)
_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_build)

c.FileContentsManager.pre_save_hook = _build.pre_save_hook
# JupyterLab applies this file twice (server and lab app); the second time is not an override.
warnings.filterwarnings("ignore", "Overriding existing pre_save_hook", UserWarning)

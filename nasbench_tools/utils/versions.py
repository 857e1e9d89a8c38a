"""Library versions recorded next to results, so a rerun that differs can be explained.

Numbers from xgboost, lightgbm, ngboost, torch and gpytorch change between releases; a results
folder that records the versions it was made with tells a reader why a rerun under other
versions may differ, and resuming under other versions warns instead of silently mixing rows.
"""

from __future__ import annotations

import logging
import platform
from importlib import metadata
from typing import Mapping

log = logging.getLogger(__name__)

#: Distribution names whose versions are recorded (the toolkit itself is added as ``nasbench-study``).
RECORDED_DISTRIBUTIONS = (
    "numpy", "scipy", "pandas", "scikit-learn", "xgboost", "lightgbm", "ngboost", "torch", "gpytorch",
)
#: Recorded value of a library that is not installed.
NOT_INSTALLED = "not installed"


def library_versions() -> dict[str, str]:
    """``{name: version}`` of Python, the toolkit and every recorded library (without importing them)."""
    from .. import __version__

    versions = {"python": platform.python_version(), "nasbench-study": __version__}
    for dist in RECORDED_DISTRIBUTIONS:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = NOT_INSTALLED
    return versions


def version_differences(recorded: Mapping[str, str], current: Mapping[str, str] | None = None) -> list[str]:
    """``"name recorded -> current"`` for every library whose version differs (sorted by name)."""
    current = library_versions() if current is None else current
    return [
        f"{name} {recorded[name]} -> {current.get(name, NOT_INSTALLED)}"
        for name in sorted(recorded)
        if recorded[name] != current.get(name, NOT_INSTALLED)
    ]


def warn_if_versions_differ(recorded: Mapping[str, str] | None, what: str) -> list[str]:
    """Log one warning when ``what`` (a results folder) was made under other library versions."""
    if not recorded:
        return []
    diffs = version_differences(recorded)
    if diffs:
        log.warning("%s was written under other library versions (%s); resumed rows may differ numerically "
                    "from the earlier ones", what, ", ".join(diffs))
    return diffs

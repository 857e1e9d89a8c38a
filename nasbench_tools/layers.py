"""The layer order of the three packages, written down once and checked by ``tests/test_layers.py``.

From the bottom up::

    core          nasbench_tools.{spaces, encodings, datasets, networks, runner, utils, errors,
                  dissertation, layers} and nasbench_tools/__init__
    predictors    predictors.*
    simulation    simulation.*            (may use predictors; predictors never use simulation)
    applications  nasbench_tools.{study, latency, supernet, cli, experiments} and nasbench_tools.__main__

A module imports only from its own layer or a lower one. What counts as an import: every
``import``/``from ... import`` anywhere in the file (top level, inside functions, inside
``try``), relative imports resolved, and a first-party module named by a string in a lazy registry
(``"predictors.linear:Ridge"``) or passed to ``importlib.import_module("...")``: it is an import
deferred, not avoided. Imports under ``if TYPE_CHECKING:`` count too: they never run, but an
annotation naming a higher layer's type is a dependency on that layer all the same, and a type
checker follows it. No library module imports ``tests`` or ``scripts``.

A new module or sub-package directly under ``nasbench_tools`` has no layer until it is added to
:data:`LAYER_OF`; the test fails until then, so the table stays complete. The checker reads the sources with :mod:`ast`
and imports nothing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

#: The layers from the bottom up: a module may import from its own layer and the ones before it.
LAYERS: tuple[str, ...] = ("core", "predictors", "simulation", "applications")

#: The packages whose modules are checked (directories under the repository root).
PACKAGES: tuple[str, ...] = ("nasbench_tools", "predictors", "simulation")

#: Top-level names that no library module may import (not part of the installed package).
OUTSIDE: tuple[str, ...] = ("tests", "scripts")

#: Layer of each unit: ``predictors`` and ``simulation`` as a whole, ``nasbench_tools`` module by
#: module (``nasbench_tools`` itself is its ``__init__``).
LAYER_OF: dict[str, str] = {
    "nasbench_tools": "core",
    "nasbench_tools.errors": "core",
    "nasbench_tools.layers": "core",
    "nasbench_tools.utils": "core",
    "nasbench_tools.spaces": "core",
    "nasbench_tools.encodings": "core",
    "nasbench_tools.datasets": "core",
    "nasbench_tools.networks": "core",
    "nasbench_tools.runner": "core",
    "nasbench_tools.dissertation": "core",
    "predictors": "predictors",
    "simulation": "simulation",
    "nasbench_tools.study": "applications",
    "nasbench_tools.latency": "applications",
    "nasbench_tools.supernet": "applications",
    "nasbench_tools.cli": "applications",
    "nasbench_tools.experiments": "applications",
    "nasbench_tools.__main__": "applications",
}

#: How an import was found (see the module docstring for what counts).
RUNTIME, TYPE_CHECKING_ONLY, BY_NAME = "import", "TYPE_CHECKING import", "import by name"


@dataclass(frozen=True)
class Violation:
    """One import that breaks the order (or a module without a layer): where, who, what."""

    path: Path
    line: int
    importer: str
    imported: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} -> {self.imported}: {self.reason}"


def unit_of(module: str) -> str:
    """The :data:`LAYER_OF` key a module belongs to (``nasbench_tools.study.spec`` -> ``nasbench_tools.study``)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == PACKAGES[0] else parts[0]


def module_name(root: Path, path: Path) -> str:
    """Dotted name of the module in ``path`` (``pkg/sub/__init__.py`` -> ``pkg.sub``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """Absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([target] if target else []))


def _named_import(node: ast.AST, modules: frozenset[str]) -> str | None:
    """The module a lazy import names: ``"predictors.gp:GP"`` or ``import_module("predictors.gp")``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and ":" in node.value:
        name = node.value.split(":")[0]
        return name if name in modules else None
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if func in ("import_module", "__import__") and isinstance(node.args[0].value, str):
            return node.args[0].value
    return None


def imports(path: Path, module: str, modules: frozenset[str]) -> Iterator[tuple[int, str, str]]:
    """``(line, imported module, kind)`` for every first-party import in ``path`` (kinds: see above)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    is_package = path.name == "__init__.py"
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            guarded.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    for node in ast.walk(tree):
        kind = TYPE_CHECKING_ONLY if id(node) in guarded else RUNTIME
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, kind
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield node.lineno, sub if sub in modules else base, kind
        else:
            named = _named_import(node, modules)
            if named:
                yield node.lineno, named, BY_NAME


def check(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[Violation]:
    """Every import under ``root/<package>`` that goes up the order, and every module without a layer."""
    files = {module_name(root, p): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))}
    modules = frozenset(files)
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    found: list[Violation] = []
    for module, path in files.items():
        where = path.relative_to(root)
        own = LAYER_OF.get(unit_of(module))
        if own is None:
            found.append(Violation(where, 1, module, "", f"{unit_of(module)} has no layer; add it to LAYER_OF "
                                                         "in nasbench_tools/layers.py"))
            continue
        for line, target, kind in imports(path, module, modules):
            top = target.split(".")[0]
            if top in OUTSIDE:
                found.append(Violation(where, line, module, target, f"{kind} of {top}/, which is not part of the package"))
            elif top in packages:
                theirs = LAYER_OF.get(unit_of(target))
                if theirs is None or rank[theirs] > rank[own]:
                    found.append(Violation(where, line, module, target,
                                           f"{kind} from {own} up to {theirs or 'a module without a layer'}"))
    return found

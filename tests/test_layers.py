"""The layer order (core <- predictors <- simulation <- applications, table and rules in
``nasbench_tools/layers.py``) holds for every module, and the checker catches each kind of breach
on a small tree written here."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from nasbench_tools.layers import LAYER_OF, LAYERS, PACKAGES, check, imports, module_name

REPO = Path(__file__).resolve().parents[1]


def test_the_tree_follows_the_layer_order() -> None:
    violations = check(REPO)
    for v in violations:
        print(v)
    assert not violations, "imports against the layer order (nasbench_tools/layers.py):\n" + "\n".join(
        map(str, violations))


def test_the_checker_sees_the_imports_of_the_tree() -> None:
    """A positive control: known edges of each kind are found (a checker that finds nothing passes too)."""
    files = {module_name(REPO, p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}
    modules = frozenset(files)

    def found(module: str) -> set[tuple[str, str]]:
        return {(target, kind) for _, target, kind in imports(files[module], module, modules)}

    assert ("nasbench_tools.encodings", "import") in found("predictors.pipeline")
    assert ("nasbench_tools.spaces", "TYPE_CHECKING import") in found("predictors.base")
    assert ("predictors.gp", "import by name") in found("predictors.registry")
    assert ("nasbench_tools.errors", "import") in found("nasbench_tools.cli")  # relative: from ..errors import


def test_the_table_names_only_known_layers() -> None:
    assert set(LAYER_OF.values()) <= set(LAYERS)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


#: A clean miniature of the three packages: every import goes down the order.
CLEAN = {
    "nasbench_tools/__init__.py": "",
    "nasbench_tools/errors.py": "",
    "nasbench_tools/spaces/__init__.py": "from ..errors import *\n",
    "nasbench_tools/study/__init__.py": "import predictors\nimport simulation\nfrom nasbench_tools.spaces import x\n",
    "predictors/__init__.py": "from nasbench_tools import spaces\n",
    "simulation/__init__.py": "import predictors\nfrom nasbench_tools.errors import E\n",
}

#: One breach a line: case | file written into the clean miniature | its text ("/" starts a new line)
#: | line of the breach | module imported | words of the reason. The importer is the file's module.
BREACHES = """
core_absolute | nasbench_tools/spaces/cells.py | import nasbench_tools.study | 1 | nasbench_tools.study | from core up to applications
core_relative_in_function | nasbench_tools/spaces/x.py | def f():/    from ..study import run | 2 | nasbench_tools.study | from core up
core_from_package_import | nasbench_tools/errors.py | from nasbench_tools import study | 1 | nasbench_tools.study | up to applications
type_checking | nasbench_tools/spaces/x.py | if TYPE_CHECKING:/    from simulation import grid | 2 | simulation | TYPE_CHECKING import
predictors_to_simulation | predictors/linear.py | try:/    import simulation.grid/except ImportError:/    pass | 2 | simulation.grid | up
lazy_registry | predictors/registry.py | REG = {'x': 'nasbench_tools.study:Run'} | 1 | nasbench_tools.study | import by name from predictors
import_module | simulation/grid.py | m = importlib.import_module('nasbench_tools.study') | 1 | nasbench_tools.study | import by name
tests_folder | simulation/bench.py | from tests.test_simulation_reference import ref | 1 | tests.test_simulation_reference | not part of
unclassified_subpackage | nasbench_tools/gadgets/__init__.py | | 1 | | nasbench_tools.gadgets has no layer
import_of_unclassified | nasbench_tools/cli/__init__.py | from ..gizmo import x | 1 | nasbench_tools.gizmo | up to a module without a layer
"""
CASES = {row.split("|")[0].strip(): [field.strip() for field in row.split("|")[1:]]
         for row in BREACHES.strip().splitlines()}


def test_a_clean_miniature_passes(tmp_path: Path) -> None:
    assert check(_tree(tmp_path, CLEAN)) == []


@pytest.mark.parametrize("case", list(CASES))
def test_the_checker_catches_a_breach(case: str, tmp_path: Path) -> None:
    rel, text, line, imported, reason = CASES[case]
    source = "".join(f"{row}\n" for row in text.split("/")) if text else ""
    root = _tree(tmp_path, {**CLEAN, "nasbench_tools/cli/__init__.py": "", rel: source})
    importer = module_name(root, root / rel)
    violations = check(root)
    assert len(violations) == 1, violations
    v = violations[0]
    assert (v.path.as_posix(), v.line, v.importer, v.imported) == (rel, int(line), importer, imported)
    assert reason in v.reason
    assert str(v).startswith(f"{rel}:{line}: {importer} -> {imported}")

"""Search spaces: sizes, canonical order, string formats, validity errors, neighbours, baselines."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from nasbench_tools.errors import InvalidArchitectureError, UnknownNameError
from nasbench_tools.spaces import Ref, available_spaces, benchmark_space, capability, get_space, spaces_with

SIZES = {
    "nb201": 15625, "nb201-nozero": 4096, "nb201-onlyconv": 64, "transnas-micro": 4096,
    "transnas-macro": 3256, "nbmacro": 6561,
}
LUT_SIZES = {"nb201": 25, "transnas-macro": 21, "transnas-micro": 19, "nbmacro": 17}


@pytest.mark.parametrize("name", sorted(SIZES))
def test_size_order_and_index_roundtrip(name: str) -> None:
    space = get_space(name)
    archs = space.enumerate()
    assert space.size == SIZES[name] == len(archs)
    # canonical order = lexicographic order of the op-code rows, no duplicates
    codes = space.codes(archs)
    assert np.all(np.diff(codes) > 0)
    assert np.array_equal(space.index(archs), np.arange(space.size))
    assert np.array_equal(space.arch(np.arange(space.size)), archs)
    assert space.is_valid(archs).all()


@pytest.mark.parametrize("name", sorted(SIZES))
def test_every_format_roundtrips(name: str) -> None:
    space = get_space(name)
    archs = space.enumerate()
    for style in space.formats:
        texts = space.format(archs, style)
        assert len(set(texts)) == space.size
        assert np.array_equal(space.parse(texts, style=style), archs)


def test_enumeration_matches_independent_product() -> None:
    space = get_space("nb201")
    product = np.array(list(itertools.product(range(5), repeat=6)))
    assert np.array_equal(space.enumerate(), product)
    nozero = get_space("nb201-nozero").enumerate()
    assert np.array_equal(nozero, product[(product != 0).all(axis=1)])
    onlyconv = get_space("nb201-onlyconv").enumerate()
    assert set(map(tuple, onlyconv)) == set(itertools.product((2, 3), repeat=6))


def test_transnas_macro_matches_official_list(data_dir) -> None:
    names = pd.read_csv(data_dir / "transnas-bench-101" / "macro_archs.csv")["arch"].tolist()
    space = get_space("transnas-macro")
    assert set(space.format(space.enumerate())) == set(names)
    # the skeleton rules, checked independently of the space's constraint code
    for row in space.enumerate():
        skel = [int(v) for v in row if v]
        widen = sum(v in (2, 4) for v in skel)
        down = sum(v in (3, 4) for v in skel)
        assert 4 <= len(skel) <= 6 and 1 <= widen <= 3 and 1 <= down <= 4
        assert list(row[: len(skel)]) == skel


def test_nb201_and_naslib_strings_agree_with_the_readme_example() -> None:
    space = get_space("nb201")
    nb = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    a = space.parse(nb)
    b = space.parse("(4, 3, 3, 0, 0, 0)", style="naslib")
    assert np.array_equal(a, b)
    assert space.format(a, "naslib") == ["(4, 3, 3, 0, 0, 0)"]
    # canonical codes: avg=4, conv1x1=2, skip=1 in NB201 edge order
    assert a.tolist() == [[4, 2, 1, 2, 1, 1]]
    # whitespace variants of tuple text parse too
    assert np.array_equal(space.parse("(4,3,3,0,0,0)", style="naslib"), a)


def test_transnas_micro_names_and_nb201_strings() -> None:
    space = get_space("transnas-micro")
    a = space.parse("64-41414-3_33_333")
    assert a.tolist() == [[3] * 6]
    assert space.format(a, "nb201")[0].count("nor_conv_3x3") == 6
    assert space.detect_format("64-41414-0_00_000") == "transnas"


@pytest.mark.parametrize(
    "name, text, fragment",
    [
        ("nb201", "|foo~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'foo'"),
        ("nb201", "|none~0|+|none~0|none~1|", "expected 3 node groups"),
        ("nb201", "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "input node 0"),
        ("nb201-nozero", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "slot 0"),
        ("transnas-micro", "|avg_pool_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op"),
        ("transnas-macro", "64-1111-basic", "doubles the channels 0 times"),
        ("transnas-macro", "64-2221-basic", "halves the resolution 0 times"),
        ("transnas-macro", "64-12-basic", "4 to 6 module digits"),
        ("nbmacro", "0120120", "8 digits"),
        ("nbmacro", "01201203", "op code 3"),
    ],
)
def test_invalid_strings_name_the_problem(name: str, text: str, fragment: str) -> None:
    space = get_space(name)
    style = space.detect_format(text) or space.default_format
    with pytest.raises(InvalidArchitectureError) as exc:
        space.parse(text, style=style)
    assert fragment in str(exc.value)
    assert text in str(exc.value)


def test_op_codes_out_of_range_and_bad_shapes() -> None:
    space = get_space("nb201")
    with pytest.raises(InvalidArchitectureError, match="op code 7"):
        space.index([0, 0, 7, 0, 0, 0])
    with pytest.raises(InvalidArchitectureError, match=r"shape \(n, 6\)"):
        space.index([0, 0, 0])
    with pytest.raises(InvalidArchitectureError, match="trailing|absent"):
        get_space("transnas-macro").index([1, 2, 3, 4, 0, 1])
    with pytest.raises(InvalidArchitectureError, match="index out of range"):
        space.arch(15625)
    with pytest.raises(InvalidArchitectureError, match="cannot tell the format"):
        space.parse("(0, 0, 0, 0, 0, 0)")
    with pytest.raises(UnknownNameError, match="unknown search space"):
        get_space("nb101")


@pytest.mark.parametrize("name", sorted(SIZES))
def test_neighbours_differ_in_exactly_one_slot(name: str) -> None:
    space = get_space(name)
    rng = np.random.default_rng(0)
    for i in rng.choice(space.size, size=20, replace=False):
        row = space.arch(i)
        nb = space.neighbours(row)
        assert space.is_valid(nb).all()
        assert np.all((nb != row).sum(axis=1) == 1)
        # every valid single edit is listed
        expected = sum(
            space.is_valid(np.where(np.arange(space.n_slots) == s, op, row)[None, :])[0]
            for s in range(space.n_slots) for op in space.allowed_ops[s] if op != row[s]
        )
        assert len(nb) == expected


@pytest.mark.parametrize("name", sorted(LUT_SIZES))
def test_lookup_table_architectures(name: str) -> None:
    space = get_space(name)
    archs = space.lut_architectures()
    assert len(archs) == LUT_SIZES[name] == 1 + sum(len(a) - 1 for a in space.allowed_ops)
    assert len(np.unique(space.index(archs))) == len(archs)
    ref = np.asarray(space.lut_baselines()[0].arch)
    assert np.array_equal(archs[0], ref)


def test_transnas_macro_baselines_cover_every_slot() -> None:
    space = get_space("transnas-macro")
    b1, b2 = space.lut_baselines()
    assert b1.arch == (1, 1, 1, 1, 4, 0) and b2.arch == (1, 1, 1, 4, 0, 0)
    assert sorted(b1.slots + b2.slots) == list(range(6))
    # the slot-4 variant of b2 with b1's op is itself a b1 neighbour: that shared arch makes 21
    shared = (1, 1, 1, 4, 4, 0)
    assert shared in set(map(tuple, space.lut_architectures()))


def test_available_spaces_all_construct() -> None:
    assert set(available_spaces()) == set(SIZES)


# ------------------------------------------------------------------------------ capabilities
def test_capabilities_declare_what_each_space_supports() -> None:
    assert spaces_with("network") == ("nb201", "nb201-nozero", "nb201-onlyconv", "nbmacro")
    assert spaces_with("supernet") == ("nb201", "nbmacro")
    assert spaces_with("isolated_latency") == ("nb201", "nb201-nozero", "nb201-onlyconv", "transnas-micro", "nbmacro")
    assert spaces_with("evaluation") == available_spaces()
    assert [get_space(s).capabilities.table_style for s in ("nb201", "transnas-micro", "transnas-macro")] == [
        None, "transnas", "transnas"]
    assert capability("nb201", "supernet").subsets["nozero"] == "nb201-nozero"
    assert capability("nb201-onlyconv", "ground_truth") == "nb201/cifar10/test_accuracy"
    for name in available_spaces():  # every lazy reference names an object that exists
        caps = get_space(name).capabilities
        for field in ("network", "dependencies", "evaluation"):
            assert not caps.has(field) or caps.get(field) is not None


def test_every_benchmark_belongs_to_exactly_one_space() -> None:
    from nasbench_tools.datasets import BENCHMARKS

    for bench in BENCHMARKS:
        owners = [s for s in available_spaces() if bench in get_space(s).capabilities.benchmarks]
        assert owners == [benchmark_space(bench).name], bench


def test_capability_errors_are_one_line() -> None:
    with pytest.raises(UnknownNameError, match="no super-network for search space 'transnas-macro'; known: nb201"):
        capability("transnas-macro", "network", "super-network")
    with pytest.raises(UnknownNameError, match="unknown space capability 'gpu'; known: network"):
        spaces_with("gpu")
    with pytest.raises(UnknownNameError, match="no search space declares the benchmark 'nb101'"):
        benchmark_space("nb101")
    with pytest.raises(ValueError, match="'module:attr'"):
        Ref("nasbench_tools.networks")

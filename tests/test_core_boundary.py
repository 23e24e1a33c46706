"""The compiled core's boundary with the runtime: one definition of what both sides share, and
fallbacks handed down instead of imported."""

import pathlib

import numpy as np
import pytest

from sessionlib._core import elementwise, executor, fused
from sessionlib.runtime import fusion, kernel_table, reference_kernels

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_the_instruction_set_is_the_arithmetic_prefix_of_the_kernels():
    assert fused.OPCODE_NAMES == elementwise.KERNEL_NAMES[:len(fused.OPCODE_NAMES)]
    assert fusion.OPCODES is fused.OPCODE_NAMES
    assert set(fused.BINARY_OPCODE_NAMES) == {
        "add", "sub", "mul", "real_div", "floor_div", "floor_mod", "pow", "maximum", "minimum",
        "squared_difference"}
    assert fused.OPCODE_NAMES[:len(fused.BINARY_OPCODE_NAMES)] == fused.BINARY_OPCODE_NAMES
    # Every kernel name is a kernel of both implementations.
    for name in elementwise.KERNEL_NAMES:
        assert callable(getattr(elementwise, name)) and callable(getattr(reference_kernels, name))


def test_limits_and_calling_conventions_have_one_definition():
    assert (fusion.MAX_INPUTS, fusion.MAX_REGISTERS) == (fused.MAX_INPUTS, fused.MAX_REGISTERS)
    assert fusion.MAX_MEMBERS <= fused.MAX_INSTRUCTIONS
    for name in ("KIND_GENERIC", "KIND_UNARY", "KIND_BINARY"):
        value = getattr(kernel_table, name)
        assert type(value) is int and value == getattr(executor, name)
    assert len({kernel_table.KIND_GENERIC, kernel_table.KIND_UNARY,
                kernel_table.KIND_BINARY}) == 3


def test_elementwise_runs_float16_through_the_handed_fallback(monkeypatch):
    x = np.array([1.5, -2.0], np.float16)
    np.testing.assert_array_equal(elementwise.add(x, x), reference_kernels.add(x, x))
    monkeypatch.setattr(elementwise, "_fallback", None)
    with pytest.raises(RuntimeError, match="reference_kernels"):
        elementwise.add(x, x)
    with pytest.raises(RuntimeError, match="reference_kernels"):
        elementwise.cast(x, np.float32)


def test_elementwise_rejects_an_incomplete_fallback():
    class OnlyAdd:
        add = staticmethod(reference_kernels.add)

    with pytest.raises(ValueError, match="sub"):
        elementwise.set_fallback(OnlyAdd)


def test_fused_runs_float16_through_the_handed_spec(monkeypatch):
    program = (fused.OPCODE_NAMES.index("neg"), -1, 0, -1)
    attrs = {"program": program, "num_inputs": 1, "num_registers": 0, "reduce": 0,
             "reduce_src": -1, "reduce_axes": (), "keep_dims": False, "reduce_op": ""}
    x = np.array([1.0, -3.0], np.float16)
    np.testing.assert_array_equal(fused.fused_elementwise(None, (x,), attrs)[0], -x)
    monkeypatch.setattr(fused, "_reference_kernel", None)
    with pytest.raises(RuntimeError, match="fusion"):
        fused.fused_elementwise(None, (x,), attrs)
    with pytest.raises(ValueError):
        fused.set_fallbacks(None, fusion.reduce_with_kernel)


def test_every_core_header_and_declaration_ships():
    tomllib = pytest.importorskip("tomllib")   # Python 3.11+
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "tool"]["setuptools"]["package-data"]["sessionlib._core"]
    core = ROOT / "sessionlib" / "_core"
    sources = [path for path in core.iterdir() if path.suffix in (".h", ".pxd", ".pyx", ".c")
               and not (path.suffix == ".c" and path.with_suffix(".pyx").exists())]
    assert any(path.suffix == ".h" for path in sources)
    for path in sources:
        assert any(path.match(pattern) for pattern in patterns), path.name

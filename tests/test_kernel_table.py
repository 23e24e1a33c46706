"""The runtime's kernel table as a unit: registration rules, lookups by name and id, and the
binding of plans to kernels by name (what a device worker does with a plan it receives).

Tests that register kernels swap the table's dicts for empty ones, because the real table is
process-wide and other suites walk it.
"""

import pickle

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework import registry
from sessionlib.runtime import kernel_table, plan as plan_lib


@pytest.fixture
def empty_table(monkeypatch):
    monkeypatch.setattr(kernel_table, "_by_name", {})
    monkeypatch.setattr(kernel_table, "_by_id", [])
    monkeypatch.setattr(kernel_table, "_families_loaded", True)


def _double(ctx, inputs, attrs):
    return (inputs[0] * 2,)


def test_register_binds_both_kernels_and_numbers_them(empty_table):
    first = kernel_table.register_kernel("Double", reference=_double)
    second = kernel_table.register_kernel("Neg", reference=np.negative, fast=np.negative,
                                          kind=kernel_table.KIND_UNARY)
    assert (first.kernel_id, second.kernel_id) == (0, 1)
    assert first.fast is _double and first.reference is _double   # fast defaults to reference
    assert first.kind == kernel_table.KIND_GENERIC
    assert kernel_table.lookup("Neg") is second
    assert kernel_table.by_id(1) is second
    assert kernel_table.all_kernel_names() == ["Double", "Neg"]


def test_register_rejects_duplicates_unknown_kinds_and_non_callables(empty_table):
    kernel_table.register_kernel("Double", reference=_double)
    with pytest.raises(ValueError, match="already registered"):
        kernel_table.register_kernel("Double", reference=_double)
    with pytest.raises(ValueError, match="calling convention"):
        kernel_table.register_kernel("Odd", reference=_double, kind=7)
    with pytest.raises(ValueError, match="callable"):
        kernel_table.register_kernel("Broken", reference="not a function")
    assert kernel_table.all_kernel_names() == ["Double"]


def test_lookup_of_an_unknown_name_is_a_key_error():
    with pytest.raises(KeyError, match="NoSuchKernel"):
        kernel_table.lookup("NoSuchKernel")


def test_the_calling_conventions_are_the_compiled_executors():
    from sessionlib._core import executor as core_executor

    assert (kernel_table.KIND_GENERIC, kernel_table.KIND_UNARY, kernel_table.KIND_BINARY) == (
        core_executor.KIND_GENERIC, core_executor.KIND_UNARY, core_executor.KIND_BINARY)
    assert len({kernel_table.KIND_GENERIC, kernel_table.KIND_UNARY,
                kernel_table.KIND_BINARY}) == 3


def test_elementwise_ops_name_kernels_with_their_calling_convention():
    add = kernel_table.lookup(registry.get("AddV2").kernel)
    assert add.kind == kernel_table.KIND_BINARY
    assert add.fast is not add.reference               # Cython kernel and numpy spec
    assert kernel_table.lookup(registry.get("Exp").kernel).kind == kernel_table.KIND_UNARY
    assert kernel_table.lookup(registry.get("MatMul").kernel).kind == kernel_table.KIND_GENERIC
    # Two ops that really share one kernel name it once.
    assert registry.get("PlaceholderWithDefault").kernel == registry.get("Identity").kernel


def test_plans_carry_kernel_names_and_rebind_by_name():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [2], name="a")
        b = tf.exp(a, name="b")
        c = tf.matmul(tf.reshape(b, [1, 2]), tf.ones([2, 1]), name="c")
    order = plan_lib.prune([a], [c], [])
    plan, _, _ = plan_lib.compile_plan(order, [a], [c], fuse=False)
    assert plan.kernel_names == [registry.get(t).kernel for t in plan.op_types]
    expected_ids = plan.kernel_ids.tolist()
    # A copy with stale ids (as if from another process) gets this process's ids back.
    shipped = pickle.loads(pickle.dumps(plan))
    shipped.kernel_ids[:] = -1
    shipped.kinds[:] = -1
    shipped.rebind()
    assert shipped.kernel_ids.tolist() == expected_ids
    assert shipped.kinds.tolist() == plan.kinds.tolist()
    fast = plan_lib.bind_kernels(shipped)
    reference = plan_lib.bind_kernels(shipped, reference=True)
    assert fast == [kernel_table.by_id(i).fast for i in expected_ids]
    assert reference == [kernel_table.by_id(i).reference for i in expected_ids]


def test_rebinding_a_plan_with_an_unknown_kernel_fails_by_name():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [], name="a")
        b = tf.negative(a)
    plan, _, _ = plan_lib.compile_plan(plan_lib.prune([a], [b], []), [a], [b], fuse=False)
    plan.kernel_names = ["NotAKernelHere"] * len(plan)
    with pytest.raises(KeyError, match="NotAKernelHere"):
        plan.rebind()

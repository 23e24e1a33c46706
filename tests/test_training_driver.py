"""The dense update ops' C driver (``training.DenseApply``) against the general driver.

The fast kernel of every dense ``ResourceApply*`` op is a `DenseApply` that handles the common
case (resources found, initialized, of the op's dtype, named once; float32/float64; contiguous
gradient) itself and hands every other case to the general Python driver. These tests call the
kernels directly with a resource container: values, copy on write (in place with no reader, a
fresh array under a reader), and the declined cases, which must give the reference kernel's
values or errors. The other per-variable kernels' fast versions (a cached VarHandleOp
handle, ReadVariableOp's common case in C) are checked the same way at the end.
"""

import types
import weakref

import numpy as np
import pytest

from sessionlib import dtypes, errors
from sessionlib._core import training
from sessionlib.runtime import kernel_table
from sessionlib.runtime.context import ResourceContainer
from sessionlib.runtime.kernels.state_kernels import (VariableResource, make_handle,
                                                      resource_key)

_DTYPES = {np.float16: dtypes.float16, np.float32: dtypes.float32, np.float64: dtypes.float64}


def _context(values, dtype=dtypes.float32):
    """A kernel context whose container holds one variable per entry of `values`."""
    container = ResourceContainer()
    handles = []
    for name, value in values.items():
        key = resource_key("var", "", name)
        resource = VariableResource("", name, dtype)
        resource.value = None if value is None else np.array(value, copy=True)
        container.put(key, resource)
        handles.append(make_handle(key))
    return types.SimpleNamespace(resources=container), handles


def _value(ctx, name):
    return ctx.resources.lookup(resource_key("var", "", name)).value


def _scalar(value, dtype):
    array = np.array(value, dtype=dtype)
    array.flags.writeable = False
    return array


def _kernels(op_type):
    found = kernel_table.lookup(op_type)
    return found.fast, found.reference


def test_dense_ops_take_the_c_driver():
    for op_type in ("ResourceApplyGradientDescent", "ResourceApplyAdam",
                    "ResourceApplyFtrl", "ResourceApplyCenteredRMSProp"):
        fast, _ = _kernels(op_type)
        assert isinstance(fast, training.DenseApply)
        assert fast.__name__ == f"{op_type}_fast"
    fast, _ = _kernels("ResourceSparseApplyAdam")
    assert not isinstance(fast, training.DenseApply)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("nesterov", [False, True])
def test_adam_step_matches_the_reference(dtype, nesterov):
    rng = np.random.RandomState(3)
    start = {"w": rng.uniform(-1, 1, (5, 3)).astype(dtype),
             "m": rng.uniform(0, 1, (5, 3)).astype(dtype),
             "v": rng.uniform(0.5, 1, (5, 3)).astype(dtype)}
    grad = rng.uniform(-1, 1, (5, 3)).astype(dtype)
    grad.flags.writeable = False
    scalars = [_scalar(x, dtype) for x in (0.9, 0.999, 0.01, 0.9, 0.999, 1e-7)]
    attrs = {"T": _DTYPES[dtype], "use_nesterov": nesterov}
    results = []
    for kernel in _kernels("ResourceApplyAdam"):
        ctx, handles = _context(start, _DTYPES[dtype])
        assert kernel(ctx, tuple(handles + scalars + [grad]), attrs) == ()
        results.append([_value(ctx, name) for name in ("w", "m", "v")])
    tolerance = {np.float16: 1e-3, np.float32: 1e-6, np.float64: 1e-14}[dtype]
    for got, want in zip(*results):
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    assert not np.allclose(results[0][0], start["w"])


def test_ftrl_v1_gets_a_zero_shrinkage():
    start = {"w": np.full(4, 0.5), "accum": np.full(4, 0.1), "linear": np.full(4, 0.2)}
    grad = np.array([0.3, -0.2, 0.1, 0.0])
    scalars = [_scalar(x, np.float64) for x in (0.1, 0.01, 0.02, -0.5)]
    results = []
    for kernel in _kernels("ResourceApplyFtrl"):
        ctx, handles = _context(start, dtypes.float64)
        kernel(ctx, (handles[0], handles[1], handles[2], grad, *scalars), {"T": dtypes.float64})
        results.append(_value(ctx, "w"))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-14)


def test_update_is_in_place_without_readers_and_copies_under_one():
    fast, _ = _kernels("ResourceApplyGradientDescent")
    ctx, (handle,) = _context({"w": np.ones(3, np.float32)})
    attrs = {"T": dtypes.float32}
    lr, grad = _scalar(0.5, np.float32), np.ones(3, np.float32)
    before = weakref.ref(_value(ctx, "w"))  # a weak reference is no reader
    fast(ctx, (handle, lr, grad), attrs)
    assert _value(ctx, "w") is before()  # nobody held it: updated in place
    np.testing.assert_array_equal(before(), [0.5] * 3)
    reader = before().view()
    reader.flags.writeable = False
    fast(ctx, (handle, lr, grad), attrs)
    np.testing.assert_array_equal(reader, [0.5] * 3)  # the reader's snapshot never changes
    assert _value(ctx, "w") is not reader.base
    np.testing.assert_array_equal(_value(ctx, "w"), [0.0] * 3)


def test_declined_cases_give_the_reference_values():
    """A slot that is the variable itself, a strided gradient, a 0-size variable."""
    cases = [
        ("ResourceApplyMomentum", {"w": np.full((2, 2), 1.0, np.float32)}, [0, 0],
         lambda: np.arange(8, dtype=np.float32).reshape(2, 4)[:, ::2]),
        ("ResourceApplyGradientDescent", {"w": np.full((3, 2), 1.0, np.float32)}, [0],
         lambda: np.arange(6, dtype=np.float32).reshape(2, 3).T),
        ("ResourceApplyGradientDescent", {"w": np.zeros((0, 2), np.float32)}, [0],
         lambda: np.zeros((0, 2), np.float32)),
    ]
    for op_type, start, handle_at, make_grad in cases:
        results = []
        for kernel in _kernels(op_type):
            ctx, handles = _context(start)
            inputs = [handles[i] for i in handle_at] + [_scalar(0.25, np.float32), make_grad()]
            if op_type == "ResourceApplyMomentum":
                inputs.append(_scalar(0.5, np.float32))
            kernel(ctx, tuple(inputs), {"T": dtypes.float32, "use_nesterov": False})
            results.append(_value(ctx, "w"))
        np.testing.assert_array_equal(results[0], results[1])


def test_declined_cases_raise_the_general_errors():
    fast, _ = _kernels("ResourceApplyGradientDescent")
    lr = _scalar(0.1, np.float32)
    attrs = {"T": dtypes.float32}
    ctx, (handle,) = _context({"w": None})
    with pytest.raises(errors.FailedPreconditionError, match="Could not find variable w"):
        fast(ctx, (handle, lr, np.ones(2, np.float32)), attrs)
    ctx, (handle,) = _context({"w": np.ones(2)}, dtypes.float64)
    with pytest.raises(errors.InvalidArgumentError, match="holds float64"):
        fast(ctx, (handle, lr, np.ones(2, np.float32)), attrs)
    ctx, (handle,) = _context({"w": np.ones(2, np.float32)})
    with pytest.raises(errors.InvalidArgumentError, match=r"same shape\[2\] \[3\]"):
        fast(ctx, (handle, lr, np.ones(3, np.float32)), attrs)
    with pytest.raises(errors.InvalidArgumentError, match="not a scalar"):
        fast(ctx, (handle, np.ones(2, np.float32), np.ones(2, np.float32)), attrs)
    np.testing.assert_array_equal(_value(ctx, "w"), [1, 1])  # nothing was written


def test_driver_checks_its_plan():
    with pytest.raises(ValueError, match="Unknown optimizer kind"):
        training.DenseApply(99, [0], [1], 2, None, False, None, None)
    with pytest.raises(ValueError, match="takes 6 params and 2 slots"):
        training.DenseApply(training.KINDS["Adam"], [0], [1], 2, None, False, None, None)


# ---- the other per-variable kernels: VarHandleOp and ReadVariableOp ----------------------------

@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.float16, np.float32, np.float64])
def test_fast_read_matches_the_reference_and_is_a_snapshot(dtype):
    found = kernel_table.lookup("ReadVariableOp")
    tf_dtype = dtypes.as_dtype(np.dtype(dtype))
    ctx, (handle,) = _context({"w": np.arange(6).reshape(2, 3).astype(dtype)}, tf_dtype)
    handle.flags.writeable = False
    (fast,) = found.fast(ctx, (handle,), {"dtype": tf_dtype})
    (want,) = found.reference(ctx, (handle,), {"dtype": tf_dtype})
    assert fast.dtype == want.dtype and fast.shape == want.shape == (2, 3)
    np.testing.assert_array_equal(fast, want)
    assert not fast.flags.writeable
    # The snapshot is a view of the current value: the next update copies on write.
    assert fast.base is _value(ctx, "w")
    if dtype in (np.float32, np.float64):
        gd, _ = _kernels("ResourceApplyGradientDescent")
        gd(ctx, (handle, _scalar(1, dtype), np.ones((2, 3), dtype)), {"T": tf_dtype})
        np.testing.assert_array_equal(fast, want)
        np.testing.assert_array_equal(_value(ctx, "w"), want - 1)


def test_fast_read_declines_to_the_general_errors():
    fast = kernel_table.lookup("ReadVariableOp").fast
    ctx, (handle,) = _context({"w": None})
    with pytest.raises(errors.FailedPreconditionError, match="Could not find variable w"):
        fast(ctx, (handle,), {"dtype": dtypes.float32})
    ctx, (handle,) = _context({"w": np.ones(2)}, dtypes.float64)
    with pytest.raises(errors.InvalidArgumentError, match="with dtype float32, but the "
                                                          "variable holds float64"):
        fast(ctx, (handle,), {"dtype": dtypes.float32})
    missing = make_handle(resource_key("var", "", "nowhere"))
    with pytest.raises(errors.FailedPreconditionError, match="Could not find variable nowhere"):
        fast(ctx, (missing,), {"dtype": dtypes.float64})


def test_fast_var_handle_is_made_once_and_read_only():
    found = kernel_table.lookup("VarHandleOp")
    attrs = {"container": "c", "shared_name": "probe_handle", "dtype": dtypes.float32}
    (first,) = found.fast(None, (), attrs)
    (again,) = found.fast(None, (), dict(attrs))
    (want,) = found.reference(None, (), attrs)
    assert first is again and first[()] == want[()] == "var:c/probe_handle"
    assert first.shape == () and first.dtype == object and not first.flags.writeable

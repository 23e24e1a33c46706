"""One suite for both elementwise kernel implementations.

* Interface tests run against each implementation (``impl`` fixture): broadcasting, output
  layout, errors, dtypes, TF semantics (wrapping, floor division, NaN rules, casts).
* Parity tests check that the Cython kernels (``sessionlib._core.elementwise``) give what the
  numpy reference (``sessionlib.runtime.reference_kernels``, the spec) gives, for every kernel,
  every supported dtype and every input layout the fast paths distinguish.
"""

import importlib
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from sessionlib import errors

IMPLEMENTATIONS = {
    "reference": "sessionlib.runtime.reference_kernels",
    "cython": "sessionlib._core.elementwise",
}

BINARY_ARITHMETIC = [
    "add", "sub", "mul", "real_div", "floor_div", "floor_mod", "pow", "maximum", "minimum",
    "squared_difference",
]
COMPARISONS = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
BINARY = BINARY_ARITHMETIC + COMPARISONS + ["logical_and", "logical_or"]
UNARY = [
    "logical_not", "neg", "abs", "sign", "square", "sqrt", "rsqrt", "exp", "log", "log1p", "sin",
    "cos", "tanh", "sigmoid", "relu", "reciprocal",
]
PUBLIC_NAMES = BINARY + UNARY + ["cast", "SUPPORTED_DTYPES", "set_num_threads", "get_num_threads"]

FLOATS = [np.dtype(t) for t in (np.float16, np.float32, np.float64)]
INTEGERS = [np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8)]
ALL_DTYPES = FLOATS + INTEGERS + [np.dtype(np.bool_)]

# Ops whose float results come from libm-style approximations: numpy's SIMD versions and the C
# library may differ in the last bits. Everything else is correctly rounded and must match
# exactly.
APPROXIMATE = {"pow", "exp", "log", "log1p", "sin", "cos", "tanh", "sigmoid"}
TOLERANCE = {
    np.dtype(np.float16): dict(rtol=1e-3, atol=0),
    np.dtype(np.float32): dict(rtol=2e-6, atol=1e-7),
    np.dtype(np.float64): dict(rtol=1e-13, atol=1e-300),
}


def load(name):
    return importlib.import_module(IMPLEMENTATIONS[name])


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def impl(request):
    return load(request.param)


@pytest.fixture(scope="module")
def ref():
    return load("reference")


@pytest.fixture(scope="module")
def fast():
    return load("cython")


def supported(kernel):
    return load("reference").SUPPORTED_DTYPES[kernel]


def kernel_dtype_pairs(kernels):
    return [
        pytest.param(k, d, id=f"{k}-{d.name}") for k in kernels for d in supported(k)
    ]


# ---------------------------------------------------------------------------------------------
# Data.

def sample(dtype, shape, rng, kernel=None, role="x"):
    """Random values of `dtype` covering the interesting cases (extremes, NaN, inf, 0, -0)."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    if dtype == np.bool_:
        values = rng.integers(0, 2, size).astype(np.bool_)
    elif dtype.kind == "f":
        special = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, np.nan, np.inf, -np.inf, 1e4])
        values = np.concatenate([special, rng.normal(0, 10, max(size, 1))])
        values = rng.permutation(values)[:size].astype(dtype)
    else:
        info = np.iinfo(dtype)
        special = np.array([info.min, info.max, 0, 1, 2, 3, 7], dtype=dtype)
        if info.min < 0:
            special = np.concatenate([special, np.array([-1, -2, -7], dtype=dtype)])
        random = rng.integers(info.min, info.max, max(size, 1), dtype=dtype, endpoint=True)
        values = rng.permutation(np.concatenate([special, random]))[:size]
    values = values.reshape(shape)
    if role == "y" and dtype.kind in "iu":
        if kernel in ("floor_div", "floor_mod"):
            values = np.where(values == 0, np.ones_like(values), values)
        elif kernel == "pow":
            values = (values.astype(np.int64) % 70).astype(dtype)  # >= 0, large enough to wrap
    return values


def operands(kernel, dtype, shapes, rng):
    x_shape, y_shape = shapes
    return sample(dtype, x_shape, rng, kernel, "x"), sample(dtype, y_shape, rng, kernel, "y")


def assert_same(actual, expected, kernel):
    """Same dtype, shape and layout; values exactly equal, or within tolerance for libm ops."""
    assert isinstance(actual, np.ndarray) and type(actual) is np.ndarray
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    assert actual.flags.c_contiguous and actual.flags.writeable
    if actual.dtype.kind == "f" and kernel in APPROXIMATE:
        np.testing.assert_allclose(actual, expected, equal_nan=True, **TOLERANCE[actual.dtype])
        np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    else:
        np.testing.assert_array_equal(actual, expected)  # NaN == NaN here


# ---------------------------------------------------------------------------------------------
# Interface, against each implementation.

def test_both_modules_export_the_same_names():
    for name in IMPLEMENTATIONS:
        module = load(name)
        assert sorted(module.__all__) == sorted(PUBLIC_NAMES)
        for public in PUBLIC_NAMES:
            assert hasattr(module, public)
    assert load("cython").SUPPORTED_DTYPES == load("reference").SUPPORTED_DTYPES
    assert set(load("reference").SUPPORTED_DTYPES) == set(BINARY + UNARY + ["cast"])


BROADCAST_SHAPES = [
    ((), ()), ((), (3,)), ((3,), ()), ((1,), (5,)), ((5,), (1,)), ((2, 3), (3,)),
    ((2, 1), (1, 3)), ((4, 1, 3), (2, 1)), ((2, 3, 4), (2, 1, 4)), ((3, 1, 1), (1, 1)),
    ((1, 1, 1), (4, 5)), ((2, 1, 3, 1), (1, 4, 1, 5)), ((0,), (1,)), ((2, 0), (2, 1)),
    ((0, 3), ()), ((1, 2, 1), ()),
]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_broadcasting_matches_numpy(impl, shapes):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    result = impl.add(x, y)
    expected = np.add(x, y)
    assert type(result) is np.ndarray and result.flags.c_contiguous
    assert result.shape == np.broadcast_shapes(*shapes)
    np.testing.assert_array_equal(result, expected)
    assert impl.less(x, y).shape == result.shape


def test_zero_d_inputs_give_a_zero_d_array_not_a_scalar(impl):
    for kernel in ("add", "equal"):
        result = getattr(impl, kernel)(np.array(2.0), np.array(3.0))
        assert type(result) is np.ndarray and result.shape == ()
    assert type(impl.neg(np.array(2, np.int32))) is np.ndarray
    assert impl.add(np.array(2.0), np.array(3.0)) == 5.0
    assert type(impl.cast(np.array(2.5), np.int32)) is np.ndarray


@pytest.mark.parametrize(
    "shapes, message",
    [
        (((2, 3), (4,)), "Incompatible shapes: [2,3] vs. [4]"),
        (((2,), (3,)), "Incompatible shapes: [2] vs. [3]"),
        (((5, 2, 3), (4, 3)), "Incompatible shapes: [5,2,3] vs. [4,3]"),
        (((0,), (2,)), "Incompatible shapes: [0] vs. [2]"),
    ],
)
def test_incompatible_shapes_raise_in_tf_words(impl, shapes, message):
    x, y = np.ones(shapes[0], np.float32), np.ones(shapes[1], np.float32)
    for kernel in ("add", "less", "floor_div"):
        with pytest.raises(errors.InvalidArgumentError) as info:
            getattr(impl, kernel)(x, y)
        assert info.value.message == message


@pytest.mark.parametrize("kernel", BINARY + UNARY + ["cast"])
def test_unsupported_dtypes_raise_unimplemented(impl, kernel):
    bad = [d for d in ALL_DTYPES if d not in supported(kernel)]
    bad += [np.dtype(np.uint16), np.dtype(np.complex64), np.dtype(np.longdouble)]
    for dtype in bad:
        x = np.zeros(3, dtype)
        with pytest.raises(errors.UnimplementedError) as info:
            if kernel in BINARY:
                getattr(impl, kernel)(x, x)
            elif kernel == "cast":
                impl.cast(x, np.float32)
            else:
                getattr(impl, kernel)(x)
        assert kernel in info.value.message and dtype.name in info.value.message


def test_cast_to_an_unsupported_dtype_raises(impl):
    with pytest.raises(errors.UnimplementedError, match="cast.*uint16"):
        impl.cast(np.ones(3), np.uint16)


def test_mismatched_dtypes_raise(impl):
    with pytest.raises(errors.InvalidArgumentError, match="same dtype"):
        impl.add(np.ones(3, np.float32), np.ones(3, np.float64))


def test_set_num_threads(impl):
    # In-process sessions set the count from intra_op_parallelism_threads (default: cores).
    previous = impl.get_num_threads()
    assert previous >= 1
    try:
        impl.set_num_threads(3)
        assert impl.get_num_threads() == 3
    finally:
        impl.set_num_threads(previous)
    with pytest.raises(ValueError):
        impl.set_num_threads(0)


@pytest.mark.parametrize("dtype", INTEGERS, ids=str)
@pytest.mark.parametrize("kernel", ["floor_div", "floor_mod"])
def test_integer_division_by_zero_raises(impl, kernel, dtype):
    x = np.array([[5, 6, 7]], dtype)
    for y in (np.array([1, 0, 2], dtype), np.array(0, dtype), np.zeros((2, 1), dtype)):
        with pytest.raises(errors.InvalidArgumentError) as info:
            getattr(impl, kernel)(x, y)
        assert info.value.message == "Integer division by zero"
    # No output element means no division: an empty result does not raise.
    assert getattr(impl, kernel)(np.ones((0, 3), dtype), np.zeros(3, dtype)).shape == (0, 3)


@pytest.mark.filterwarnings("error")
def test_float_division_by_zero_is_silent_ieee(impl):
    x = np.array([1.0, -1.0, 0.0, np.nan], np.float32)
    zero = np.zeros(4, np.float32)
    np.testing.assert_array_equal(impl.real_div(x, zero), [np.inf, -np.inf, np.nan, np.nan])
    np.testing.assert_array_equal(impl.floor_div(x, zero), [np.inf, -np.inf, np.nan, np.nan])
    assert np.isnan(impl.floor_mod(x, zero)).all()
    np.testing.assert_array_equal(impl.reciprocal(zero), np.full(4, np.inf, np.float32))
    np.testing.assert_array_equal(impl.log(np.array([0.0, -1.0])), [-np.inf, np.nan])
    assert np.isinf(impl.exp(np.array([1000.0], np.float32)))[0]


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64], ids=str)
def test_negative_integer_power_raises(impl, dtype):
    with pytest.raises(errors.InvalidArgumentError) as info:
        impl.pow(np.array([2, 3], dtype), np.array([1, -1], dtype))
    assert info.value.message == "Integers to negative integer powers are not allowed"
    np.testing.assert_array_equal(
        impl.pow(np.array([2, 3, 0, -2], dtype), np.array([3, 0, 0, 3], dtype)), [8, 1, 1, -8])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8], ids=str)
def test_integers_wrap_around(impl, dtype):
    info = np.iinfo(dtype)
    top, bottom = np.array([info.max], dtype), np.array([info.min], dtype)
    one = np.array([1], dtype)
    np.testing.assert_array_equal(impl.add(top, one), bottom)
    np.testing.assert_array_equal(impl.sub(bottom, one), top)
    def wrapped(value):  # the low bits of an exact Python int, as `dtype`
        return np.array([value % 2 ** 64], np.uint64).astype(dtype)
    np.testing.assert_array_equal(impl.mul(top, np.array([2], dtype)), wrapped(info.max * 2))
    np.testing.assert_array_equal(impl.square(top), wrapped(info.max ** 2))
    np.testing.assert_array_equal(impl.pow(np.array([3], dtype), np.array([41], dtype)),
                                  wrapped(3 ** 41))
    if info.min < 0:
        np.testing.assert_array_equal(impl.neg(bottom), bottom)
        np.testing.assert_array_equal(impl.abs(bottom), bottom)
        minus_one = np.array([-1], dtype)
        np.testing.assert_array_equal(impl.floor_div(bottom, minus_one), bottom)
        np.testing.assert_array_equal(impl.floor_mod(bottom, minus_one), [0])
    else:
        np.testing.assert_array_equal(impl.neg(one), top)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64], ids=str)
def test_integer_floor_div_and_mod_follow_python(impl, dtype):
    pairs = [(a, b) for a in range(-9, 10) for b in (-4, -3, -1, 1, 2, 5)]
    x = np.array([a for a, _ in pairs], dtype)
    y = np.array([b for _, b in pairs], dtype)
    np.testing.assert_array_equal(impl.floor_div(x, y), [a // b for a, b in pairs])
    np.testing.assert_array_equal(impl.floor_mod(x, y), [a % b for a, b in pairs])


def test_float_floor_div_and_mod(impl):
    x = np.array([7.5, -7.5, 7.5, -7.5, 1.0], np.float64)
    y = np.array([2.0, 2.0, -2.0, -2.0, 0.1], np.float64)
    # FloorDiv is TF's floor(x / y); FloorMod has the divisor's sign like Python's %.
    np.testing.assert_array_equal(impl.floor_div(x, y), np.floor(x / y))
    np.testing.assert_allclose(impl.floor_mod(x, y), [a % b for a, b in zip(x, y)])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_sigmoid_is_stable_with_exact_limits(impl, dtype):
    x = np.array([-np.inf, -1e4, -100.0, 0.0, 100.0, 1e4, np.inf], dtype)
    result = impl.sigmoid(x)
    assert result.dtype == dtype
    np.testing.assert_array_equal(result[[0, 1, 5, 6]], [0, 0, 1, 1])
    assert result[3] == 0.5
    assert np.isnan(impl.sigmoid(np.array([np.nan], dtype)))[0]


def test_nan_rules(impl):
    nan = np.float64(np.nan)
    x = np.array([nan, 1.0, nan, -0.0])
    y = np.array([1.0, nan, nan, 0.0])
    assert np.isnan(impl.maximum(x, y)[:3]).all() and np.isnan(impl.minimum(x, y)[:3]).all()
    np.testing.assert_array_equal(impl.sign(np.array([nan, -3.0, 0.0, 2.0])), [nan, -1, 0, 1])
    np.testing.assert_array_equal(impl.relu(np.array([nan, -3.0, 2.0])), [nan, 0, 2])
    np.testing.assert_array_equal(impl.equal(x, y), [False, False, False, True])
    np.testing.assert_array_equal(impl.not_equal(x, y), [True, True, True, False])
    np.testing.assert_array_equal(impl.less(x, y), [False, False, False, False])


def test_logical_ops_on_bool(impl):
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    np.testing.assert_array_equal(impl.logical_and(a, b), [True, False, False, False])
    np.testing.assert_array_equal(impl.logical_or(a, b), [True, True, True, False])
    np.testing.assert_array_equal(impl.logical_not(a), [False, False, True, True])
    np.testing.assert_array_equal(impl.equal(a, b), [True, False, False, True])
    assert impl.logical_and(a, np.array(True)).dtype == np.bool_


def test_cast_semantics(impl):
    x = np.array([1.7, -1.7, 0.0, -0.5, 2.5], np.float64)
    np.testing.assert_array_equal(impl.cast(x, np.int32), [1, -1, 0, 0, 2])  # toward zero
    np.testing.assert_array_equal(impl.cast(x, "int8"), [1, -1, 0, 0, 2])
    np.testing.assert_array_equal(
        impl.cast(np.array([0.0, -0.0, 0.1, np.nan, -np.inf]), np.bool_),
        [False, False, True, True, True])
    np.testing.assert_array_equal(impl.cast(np.array([0, 3, -1], np.int32), bool),
                                  [False, True, True])
    flags = np.array([True, False, True])
    for dtype in ALL_DTYPES:
        result = impl.cast(flags, dtype)
        assert result.dtype == dtype
        np.testing.assert_array_equal(result, [1, 0, 1])
    same = np.arange(3.0)
    copy = impl.cast(same, np.float64)
    assert copy is not same and not np.shares_memory(copy, same)
    assert impl.cast(np.array(300, np.int32), np.uint8) == 44  # integers wrap
    assert impl.cast(np.ones(3, np.float32), np.dtype(">f8")).dtype == np.float64


def test_outputs_never_alias_inputs(impl):
    x = np.arange(6.0)
    assert not np.shares_memory(impl.add(x, np.array(0.0)), x)
    assert not np.shares_memory(impl.relu(x), x)


@pytest.mark.filterwarnings("error")
def test_python_scalars_and_lists_are_accepted(impl):
    np.testing.assert_array_equal(impl.add([1.0, 2.0], [3.0, 4.0]), [4.0, 6.0])
    assert impl.mul(2, 3) == 6


# ---------------------------------------------------------------------------------------------
# Parity: the Cython kernels against the reference, kernel x dtype x layout.

def _frombuffer(array):
    """The same values in a read-only array over an immutable bytes object."""
    return np.frombuffer(bytes(array.tobytes()), dtype=array.dtype).reshape(array.shape)


def _misaligned(array):
    """The same values at an odd address (only meaningful for itemsize > 1)."""
    raw = np.frombuffer(b"\0" + array.tobytes(), dtype=array.dtype, offset=1)
    return raw.reshape(array.shape)


def _readonly(array):
    array = array.copy()
    array.flags.writeable = False
    return array


def _big_endian(array):
    return array.astype(array.dtype.newbyteorder(">"))


# layout name -> function(make(shape) -> array) -> (x, y)
BINARY_LAYOUTS = {
    "same_shape": lambda make: (make((3, 5), "x"), make((3, 5), "y")),
    "zero_d": lambda make: (make((), "x"), make((), "y")),
    "scalar_left": lambda make: (make((), "x"), make((17,), "y")),
    "scalar_right": lambda make: (make((2, 9), "x"), make((1,), "y")),
    "row_broadcast": lambda make: (make((4, 6), "x"), make((6,), "y")),
    "column_broadcast": lambda make: (make((4, 1), "x"), make((4, 6), "y")),
    "outer": lambda make: (make((5, 1), "x"), make((1, 7), "y")),
    "rank_difference": lambda make: (make((2, 3, 4), "x"), make((3, 1), "y")),
    "transposed": lambda make: (make((6, 4), "x").T, make((4, 6), "y")),
    "reversed": lambda make: (make((11,), "x")[::-1], make((11,), "y")),
    "strided_negative": lambda make: (make((6, 9), "x")[::2, ::-3], make((3, 6), "y")[:, 1::2]),
    "readonly": lambda make: (_readonly(make((3, 4), "x")), _readonly(make((4,), "y"))),
    "frombuffer": lambda make: (_frombuffer(make((2, 5), "x")), _frombuffer(make((2, 5), "y"))),
    "big_endian": lambda make: (_big_endian(make((7,), "x")), _big_endian(make((7,), "y"))),
    "misaligned": lambda make: (_misaligned(make((3, 3), "x")), make((3,), "y")),
    "empty": lambda make: (make((0, 3), "x"), make((3,), "y")),
    "empty_broadcast": lambda make: (make((2, 0), "x"), make((2, 1), "y")),
}

UNARY_LAYOUTS = {
    "contiguous": lambda make: make((4, 5)),
    "zero_d": lambda make: make(()),
    "transposed": lambda make: make((5, 3)).T,
    "reversed": lambda make: make((13,))[::-1],
    "strided_negative": lambda make: make((6, 9))[::-2, 1::3],
    "broadcast_view": lambda make: np.broadcast_to(make((4,)), (3, 4)),
    "readonly": lambda make: _readonly(make((3, 4))),
    "frombuffer": lambda make: _frombuffer(make((2, 5))),
    "big_endian": lambda make: _big_endian(make((7,))),
    "misaligned": lambda make: _misaligned(make((3, 3))),
    "empty": lambda make: make((0, 4)),
}


def _check_binary_parity(ref, fast, kernel, x, y):
    x_before, y_before = x.copy(), y.copy()
    try:
        expected = getattr(ref, kernel)(x, y)
    except errors.OpError as error:
        with pytest.raises(type(error)):
            getattr(fast, kernel)(x, y)
        return
    actual = getattr(fast, kernel)(x, y)
    assert_same(actual, expected, kernel)
    np.testing.assert_array_equal(x, x_before)  # neither implementation mutates its inputs
    np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("layout", sorted(BINARY_LAYOUTS))
@pytest.mark.parametrize("kernel, dtype", kernel_dtype_pairs(BINARY))
def test_binary_parity(ref, fast, kernel, dtype, layout):
    rng = np.random.default_rng(zlib.crc32(f"{kernel}-{dtype.name}-{layout}".encode()))
    x, y = BINARY_LAYOUTS[layout](lambda shape, role: sample(dtype, shape, rng, kernel, role))
    _check_binary_parity(ref, fast, kernel, x, y)


@pytest.mark.parametrize("layout", sorted(UNARY_LAYOUTS))
@pytest.mark.parametrize("kernel, dtype", kernel_dtype_pairs(UNARY))
def test_unary_parity(ref, fast, kernel, dtype, layout):
    rng = np.random.default_rng(zlib.crc32(f"{kernel}-{dtype.name}-{layout}".encode()))
    x = UNARY_LAYOUTS[layout](lambda shape: sample(dtype, shape, rng))
    x_before = x.copy()
    assert_same(getattr(fast, kernel)(x), getattr(ref, kernel)(x), kernel)
    np.testing.assert_array_equal(x, x_before)


def _cast_source(source, target, shape, rng):
    """Values of `source` that `target` can represent (out-of-range float->int is unspecified)."""
    values = sample(source, shape, rng)
    if source.kind == "f" and target.kind in "iu":
        info = np.iinfo(target)
        low, high = max(info.min, -1000), min(info.max, 1000)
        finite = np.where(np.isfinite(values), values, 0)
        values = np.clip(finite, low + 1, high - 1).astype(source)
    return values


@pytest.mark.parametrize("target", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("source", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("layout", ["contiguous", "zero_d", "strided", "readonly", "empty"])
def test_cast_parity(ref, fast, source, target, layout):
    rng = np.random.default_rng(7)
    shape = {"contiguous": (4, 6), "zero_d": (), "strided": (5, 8), "readonly": (9,),
             "empty": (0, 2)}[layout]
    x = _cast_source(source, target, shape, rng)
    if layout == "strided":
        x = x[::-2, 1::3]
    elif layout == "readonly":
        x = _readonly(x)
    assert_same(fast.cast(x, target), ref.cast(x, target), "cast")


# Large inputs take the OpenMP path: blocks that split rows mid-way, odometer seeks, strided
# rows, scalar rows. Each shape pair has > 256K output elements (elementwise's
# PARALLEL_THRESHOLD).
LARGE_SHAPES = {
    "flat": ((270001,), (270001,)),
    "row_broadcast": ((2801, 97), (97,)),
    "outer": ((1031, 1), (1, 257)),
    "scalar": ((), (264000,)),
}


@pytest.fixture
def threads(fast, ref):
    for module in (fast, ref):
        module.set_num_threads(3)
    yield
    for module in (fast, ref):
        module.set_num_threads(1)


@pytest.mark.parametrize("shape", sorted(LARGE_SHAPES))
@pytest.mark.parametrize("kernel, dtype", kernel_dtype_pairs(
    ["add", "floor_div", "floor_mod", "pow", "maximum", "less", "logical_or"]))
def test_large_parity_threaded(ref, fast, threads, kernel, dtype, shape):
    rng = np.random.default_rng(3)
    x, y = operands(kernel, dtype, LARGE_SHAPES[shape], rng)
    _check_binary_parity(ref, fast, kernel, x, y)
    _check_binary_parity(ref, fast, kernel, np.ascontiguousarray(x.T).T, y)  # strided rows


@pytest.mark.parametrize("kernel", ["floor_div", "floor_mod"])
def test_large_threaded_division_by_zero_raises(fast, threads, kernel):
    y = np.ones(600_000, np.int32)
    y[-1] = 0  # in the last thread's block only
    with pytest.raises(errors.InvalidArgumentError, match="Integer division by zero"):
        getattr(fast, kernel)(np.ones(600_000, np.int32), y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "kernel", ["neg", "sqrt", "sigmoid", "relu", "logical_not", "exp", "log", "log1p", "sin",
               "cos", "tanh"])
def test_large_unary_parity_threaded(ref, fast, threads, kernel, dtype):
    # 270k elements: threaded loops; the transcendentals take the fused kernel's vector math
    # (fused.unary).
    dtype = np.dtype(np.bool_) if kernel == "logical_not" else np.dtype(dtype)
    x = sample(dtype, (600, 450), np.random.default_rng(5))
    assert_same(getattr(fast, kernel)(x), getattr(ref, kernel)(x), kernel)
    assert_same(getattr(fast, kernel)(x.T), getattr(ref, kernel)(x.T), kernel)
    assert_same(fast.cast(x, np.float64), ref.cast(x, np.float64), "cast")


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("size", [1500, 100_000])   # sigmoid's two vector paths
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_large_sigmoid_and_exp_keep_exact_limits(fast, size, dtype):
    x = np.linspace(-30, 30, size).astype(dtype)
    lanes = [0, 7, size // 2, size - 9, size - 5, size - 4, size - 3, size - 1]
    x[lanes] = np.array([-np.inf, -1e4, -100.0, 0.0, 100.0, 1e4, np.inf, np.nan], dtype)
    minus_inf, minus_big, _, zero, _, plus_big, plus_inf, nan = lanes   # +-100: checked below
    sigmoid, exp = fast.sigmoid(x), fast.exp(x)
    np.testing.assert_array_equal(sigmoid[[minus_inf, minus_big, plus_big, plus_inf]],
                                  [0, 0, 1, 1])
    assert sigmoid[zero] == 0.5 and np.isnan(sigmoid[nan])
    np.testing.assert_array_equal(exp[[minus_inf, minus_big, plus_big, plus_inf]],
                                  [0, 0, np.inf, np.inf])
    assert exp[zero] == 1 and np.isnan(exp[nan])
    finite = np.isfinite(x) & (np.abs(x) <= 100)
    with np.errstate(over="ignore", under="ignore"):
        exact_exp = np.exp(x[finite].astype(np.float64)).astype(dtype)
        exact_sigmoid = (1 / (1 + np.exp(-x[finite].astype(np.float64)))).astype(dtype)
    tolerance = {2: 2e-3, 4: 4e-7, 8: 1e-15}[np.dtype(dtype).itemsize]   # half: 2 ulps
    np.testing.assert_allclose(exp[finite], exact_exp, rtol=tolerance)
    np.testing.assert_allclose(sigmoid[finite], exact_sigmoid, rtol=tolerance)


def test_thread_count_does_not_change_results(fast):
    x = sample(np.float64, (513, 300), np.random.default_rng(9))
    y = sample(np.float64, (300,), np.random.default_rng(10))
    single = fast.squared_difference(x, y)
    try:
        for n in (2, 3, 7):
            fast.set_num_threads(n)
            np.testing.assert_array_equal(fast.squared_difference(x, y), single)
    finally:
        fast.set_num_threads(1)


# ---------------------------------------------------------------------------------------------
# Property test: any broadcastable pair, any orientation.

@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=5, max_side=4),
    kernel=st.sampled_from(["add", "sub", "maximum", "floor_mod", "greater_equal"]),
    dtype=st.sampled_from([np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.int16),
                           np.dtype(np.int64), np.dtype(np.uint8)]),
)
def test_broadcasting_property(data, shapes, kernel, dtype):
    ref, fast = load("reference"), load("cython")
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    x, y = operands(kernel, dtype, shapes.input_shapes, rng)
    # Random axis flips give negative strides; a random transpose-and-back gives F order.
    for axis in range(x.ndim):
        if data.draw(st.booleans()):
            x = np.flip(x, axis)
    if data.draw(st.booleans()):
        y = np.array(y, order="F")  # (np.asfortranarray would make a 0-d input 1-d)
    _check_binary_parity(ref, fast, kernel, x, y)
    assert getattr(fast, kernel)(x, y).shape == shapes.result_shape

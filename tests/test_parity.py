"""Every registered op, for every dtype it supports, gives the same outputs on both executors.

The reference executor runs the numpy reference kernels and the Cython executor the fast ones;
this suite runs one graph per (op, dtype) through a `Session` on each and compares the results:
exactly for integers and bools, to a tight tolerance for floats. Fed inputs are read-only
arrays, as shared-memory buffers will be.

The op list comes from the registry, so an op added without a parity case here fails
`test_every_op_has_a_parity_case`.
"""

import importlib
import pathlib

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework import registry
from sessionlib.runtime import executor as executor_lib
from sessionlib.runtime import kernel_table

# Ops whose parity is not this suite's business, with the reason.
EXCLUDED = {
    # No kernel arithmetic: constants and feeds, tested by the graph and session suites.
    "Const", "Placeholder", "PlaceholderWithDefault", "Identity", "StopGradient",
    "PreventGradient", "NoOp",
    # Session-handle ops: resources of one session, tested by tests of session handles.
    "GetSessionHandle", "GetSessionTensor", "DeleteSessionTensor",
    # Variable bookkeeping (stateless, but about resources): tested by the variable suite.
    "UninitializedVariableNames",
    # Sparse ops: owned and tested (on both executors) by the sparse suite.
    "SparseToDense", "SparseAdd", "SparseTensorDenseAdd", "SparseReduceSum", "SparseAddGrad",
    # Calls a user's Python function, in the client only (not under SESSIONLIB_WORKERS=1); one
    # kernel serves both executors. test_py_func.py runs every dtype on both, in process.
    "PyFuncStateless",
}
# Our own stateful ops; every other stateful op (variables, queues, readers) holds a
# resource that its owner's suite tests, so it is excluded too.
OWN_STATEFUL = {"RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt",
                "SampleDistortedBoundingBoxV2"}

FLOATS = (tf.float16, tf.float32, tf.float64)
INTS = (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)
NUMERIC = FLOATS + INTS
ALL = NUMERIC + (tf.bool,)
INDEX = (tf.int32, tf.int64)


def _values(shape, dtype, seed=0, low=-5, high=5, positive=False, nonzero=False):
    """A read-only array of `dtype` with deterministic contents."""
    rng = np.random.default_rng(seed)
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    if dtype is tf.bool:
        array = rng.random(shape) < 0.5
    elif dtype is tf.string:
        array = np.array([f"s{v}".encode() for v in rng.integers(0, 9, int(np.prod(shape)))],
                         dtype=object).reshape(shape)
    elif dtype.is_integer:
        if dtype.is_unsigned or positive:
            low = max(low, 1 if nonzero else 0)
            high = max(high, low + 2)
        array = rng.integers(low, high, shape).astype(np_dtype)
        if nonzero:
            array[array == 0] = 1
    else:
        array = rng.uniform(0.1 if positive else low, high, shape).astype(np_dtype)
    array.setflags(write=False)
    return array


class _Feeds:
    """Makes placeholders and collects their read-only feed values."""

    def __init__(self):
        self.feed_dict = {}

    def __call__(self, shape, dtype, **kwargs):
        value = _values(shape, dtype, seed=len(self.feed_dict), **kwargs)
        placeholder = tf.placeholder(dtype, shape=None)
        self.feed_dict[placeholder] = value
        return placeholder


def _binary(op_type, **value_kwargs):
    def build(feeds, dtype):
        x = feeds((3, 4), dtype, **value_kwargs)
        y = feeds((4,), dtype, **value_kwargs)
        scalar = feeds((), dtype, **value_kwargs)
        graph = tf.get_default_graph()
        return [graph.create_op(op_type, [x, y]).outputs[0],
                graph.create_op(op_type, [y, x]).outputs[0],
                graph.create_op(op_type, [x, scalar]).outputs[0]]

    return build


def _unary(op_type, **value_kwargs):
    def build(feeds, dtype):
        x = feeds((3, 4), dtype, **value_kwargs)
        graph = tf.get_default_graph()
        return [graph.create_op(op_type, [x]).outputs[0]]

    return build


def _reduction(op_type):
    def build(feeds, dtype):
        x = feeds((3, 4, 2), dtype, low=-3, high=4)
        graph = tf.get_default_graph()
        outs = []
        for axes, keep in (([0], False), ([1, -1], True), ([0, 1, 2], False)):
            axes_t = tf.constant(axes)
            outs.append(graph.create_op(op_type, [x, axes_t], {"keep_dims": keep}).outputs[0])
        return outs

    return build


CASES = {}


def case(op_type, dtypes_, build):
    CASES[op_type] = (dtypes_, build)


for _name in ("AddV2", "Sub", "Mul", "Maximum", "Minimum", "SquaredDifference"):
    case(_name, NUMERIC, _binary(_name))
case("RealDiv", FLOATS, _binary("RealDiv", nonzero=True))
case("FloorDiv", NUMERIC, _binary("FloorDiv", nonzero=True))
case("FloorMod", NUMERIC, _binary("FloorMod", nonzero=True))
case("Pow", NUMERIC, _binary("Pow", low=0, high=3, positive=True))
for _name in ("Equal", "NotEqual"):
    case(_name, ALL + (tf.string,), _binary(_name, low=-2, high=2))
for _name in ("Less", "LessEqual", "Greater", "GreaterEqual"):
    case(_name, NUMERIC, _binary(_name, low=-2, high=2))
for _name in ("LogicalAnd", "LogicalOr"):
    case(_name, (tf.bool,), _binary(_name))
case("LogicalNot", (tf.bool,), _unary("LogicalNot"))
for _name in ("Neg", "Abs", "Sign", "Square"):
    case(_name, NUMERIC, _unary(_name, low=-3, high=4))
for _name in ("Sqrt", "Rsqrt", "Log", "Log1p", "Reciprocal"):
    case(_name, FLOATS, _unary(_name, positive=True))
for _name in ("Exp", "Sin", "Cos", "Tanh", "Sigmoid"):
    case(_name, FLOATS, _unary(_name))
case("Relu", NUMERIC, _unary("Relu"))
for _name in ("Sum", "Prod", "Mean", "Max", "Min"):
    case(_name, NUMERIC, _reduction(_name))
for _name in ("Any", "All"):
    case(_name, (tf.bool,), _reduction(_name))


def _cast(feeds, dtype):
    x = feeds((3, 4), dtype, low=-3, high=100)
    return [tf.cast(x, target) for target in ALL if target is not dtype]


case("Cast", ALL, _cast)
case("AddN", NUMERIC, lambda f, d: [tf.add_n([f((2, 3), d), f((2, 3), d), f((2, 3), d)])])


def _matmul(feeds, dtype):
    a, b = feeds((3, 4), dtype, low=-3, high=3), feeds((4, 2), dtype, low=-3, high=3)
    return [tf.matmul(a, b), tf.matmul(b, a, transpose_a=True, transpose_b=True)]


def _batch_matmul(feeds, dtype):
    a = feeds((2, 3, 4), dtype, low=-3, high=3)
    b = feeds((4, 2), dtype, low=-3, high=3)
    graph = tf.get_default_graph()
    return [graph.create_op("BatchMatMulV2", [a, b]).outputs[0],
            graph.create_op("BatchMatMulV2", [a, a], {"adj_y": True}).outputs[0]]


case("MatMul", NUMERIC, _matmul)
case("BatchMatMulV2", NUMERIC, _batch_matmul)
case("ReduceJoin", (tf.string,), lambda f, d: [
    tf.reduce_join(f((2, 3), d)), tf.reduce_join(f((2, 3), d), axis=[1, 0], separator="-"),
    tf.reduce_join(f((2, 3), d), axis=0, keep_dims=True)])


def _arg(fn):
    def build(feeds, dtype):
        x = feeds((3, 4), dtype, low=-9, high=9)
        return [fn(x), fn(x, axis=1), fn(x, axis=-1, output_type=tf.int32)]

    return build


case("ArgMax", NUMERIC, _arg(tf.argmax))
case("ArgMin", NUMERIC, _arg(tf.argmin))
case("Softmax", FLOATS, lambda f, d: [tf.nn.softmax(f((3, 4), d)), tf.nn.softmax(f((5,), d))])
case("BiasAdd", NUMERIC, lambda f, d: [
    tf.nn.bias_add(f((2, 3), d), f((3,), d)),
    tf.nn.bias_add(f((2, 3, 4), d), f((3,), d), data_format="NCHW")])

_SHAPE_DTYPES = ALL + (tf.string,)


def _graph_op(op_type, inputs, attrs=None):
    return tf.get_default_graph().create_op(op_type, inputs, attrs).outputs


case("Shape", _SHAPE_DTYPES, lambda f, d: _graph_op("Shape", [f((2, 3), d)])
     + _graph_op("Shape", [f((4,), d)], {"out_type": tf.int64}))
case("Size", _SHAPE_DTYPES, lambda f, d: _graph_op("Size", [f((2, 3), d)]))
case("Rank", _SHAPE_DTYPES, lambda f, d: _graph_op("Rank", [f((2, 3), d)]))
case("Reshape", _SHAPE_DTYPES, lambda f, d: [tf.reshape(f((2, 3), d), [3, -1]),
                                            tf.reshape(f((2, 3), d), [6])])
# Rows of >= 32 bytes take the fast kernel's row copy (_core/layout.pyx), the short ones and
# the matrix transposes numpy; [2, 0, 1, 3] merges nothing, [1, 0, 2, 3] merges the last two
# axes, and the size-1 axis is dropped.
case("Transpose", _SHAPE_DTYPES, lambda f, d: [
    tf.transpose(f((2, 3, 4), d)), tf.transpose(f((2, 3, 4), d), [1, 0, 2]),
    tf.transpose(f((3, 5, 40), d), [1, 0, 2]), tf.transpose(f((2, 3, 4, 40), d), [2, 0, 1, 3]),
    tf.transpose(f((2, 3, 5, 8), d), [1, 0, 2, 3]),
    tf.transpose(f((4, 1, 3, 33), d), [2, 1, 0, 3])])
case("ExpandDims", _SHAPE_DTYPES, lambda f, d: [tf.expand_dims(f((2, 3), d), -1)])
case("Squeeze", _SHAPE_DTYPES, lambda f, d: [tf.squeeze(f((1, 3, 1), d)),
                                            tf.squeeze(f((1, 3, 1), d), [2])])
case("ConcatV2", _SHAPE_DTYPES, lambda f, d: [tf.concat([f((2, 3), d), f((1, 3), d)], 0),
                                             tf.concat([f((2, 3), d), f((2, 1), d)], -1)])
case("Pack", _SHAPE_DTYPES, lambda f, d: [tf.stack([f((2, 3), d), f((2, 3), d)], axis=1)])
case("Unpack", _SHAPE_DTYPES, lambda f, d: list(tf.unstack(tf.ones([3, 2], d)
                                                           if d is not tf.string else
                                                           f((3, 2), d), num=3)))
case("Split", _SHAPE_DTYPES, lambda f, d: tf.split(f((2, 6), d), 3, axis=1))
case("SplitV", _SHAPE_DTYPES, lambda f, d: tf.split(f((2, 6), d), [1, -1, 2], axis=1))
case("Slice", _SHAPE_DTYPES, lambda f, d: [tf.slice(f((3, 4), d), [1, 0], [-1, 2])])
case("StridedSlice", _SHAPE_DTYPES, lambda f, d: [
    f((3, 4), d)[1:, ::-2], f((3, 4), d)[0], f((3, 4), d)[..., None, -1]])
case("GatherV2", _SHAPE_DTYPES, lambda f, d: [
    tf.gather(f((3, 4), d), [2, 0, 2]), tf.gather(f((3, 4), d), [[1], [3]], axis=1)])
case("Tile", _SHAPE_DTYPES, lambda f, d: [tf.tile(f((2, 3), d), [2, 1])])
case("Fill", ALL, lambda f, d: [tf.fill([2, 3], f((), d))])
case("ZerosLike", ALL, lambda f, d: _graph_op("ZerosLike", [f((2, 3), d)]))
case("OnesLike", ALL, lambda f, d: _graph_op("OnesLike", [f((2, 3), d)]))
case("Range", (tf.int32, tf.int64, tf.float32, tf.float64), lambda f, d: [
    tf.range(tf.constant(1, d), tf.constant(9, d), tf.constant(2, d)),
    tf.range(tf.constant(5, d), tf.constant(-1, d), tf.constant(-2, d))])
case("Where", ALL, lambda f, d: [tf.where(f((3, 4), d, low=-1, high=2))])
case("Select", _SHAPE_DTYPES, lambda f, d: [
    tf.where(f((3, 4), tf.bool), f((3, 4), d), f((3, 4), d)),
    _graph_op("Select", [f((3,), tf.bool), f((3, 4), d), f((3, 4), d)])[0]])
case("SelectV2", _SHAPE_DTYPES, lambda f, d: _graph_op(
    "SelectV2", [f((3, 1), tf.bool), f((4,), d), f((3, 4), d)]))
case("ClipByValue", NUMERIC, lambda f, d: [
    tf.clip_by_value(f((3, 4), d), f((), d, low=-2, high=0), f((), d, low=1, high=3)),
    tf.clip_by_value(f((3, 4), d), f((3, 4), d, low=-2, high=0), f((), d, low=1, high=3))])


# ---- gradient helper ops ----
case("BroadcastGradientArgs", INDEX, lambda f, d: _graph_op(
    "BroadcastGradientArgs", [tf.constant([2, 1, 3], d), tf.constant([4, 1, 1, 3], d)])
    + _graph_op("BroadcastGradientArgs", [tf.constant([1, 3], d), tf.constant([], d)]))
case("InvertPermutation", INDEX, lambda f, d: _graph_op(
    "InvertPermutation", [tf.constant([2, 0, 3, 1], d)]))
case("ProdOthers", NUMERIC, lambda f, d: _graph_op(
    "ProdOthers", [f((3, 2, 2), d, low=-2, high=3), tf.constant([0, 2])]) + _graph_op(
    "ProdOthers", [f((3, 4), d, low=-2, high=3), tf.constant([1])]))
case("ReluGrad", NUMERIC, lambda f, d: _graph_op("ReluGrad", [f((3, 4), d), f((3, 4), d)]))
case("StridedSliceGrad", _SHAPE_DTYPES, lambda f, d: _graph_op("StridedSliceGrad", [
    tf.constant([3, 4]), tf.constant([1, 0]), tf.constant([3, 4]), tf.constant([1, 2]),
    f((2, 2), d)]))
case("UnsortedSegmentSum", NUMERIC, lambda f, d: [
    tf.unsorted_segment_sum(f((5, 3), d), tf.constant([2, 0, 2, 7, -1]), 4),
    tf.unsorted_segment_sum(f((2, 3, 2), d), tf.constant([[1, 1, 0], [0, 1, 1]], tf.int64),
                            tf.constant(3, tf.int64)),
    tf.unsorted_segment_sum(f((0, 2), d), tf.zeros([0], tf.int32), 2)])
case("BiasAddGrad", NUMERIC, lambda f, d: _graph_op("BiasAddGrad", [f((2, 3, 4), d)],
                                                    {"data_format": "NHWC"}) + _graph_op(
    "BiasAddGrad", [f((2, 3, 4), d)], {"data_format": "NCHW"}))

def _fused_program(*instructions):
    """A `_FusedElementwise` program from (opcode name, dst, a, b) tuples."""
    from sessionlib.runtime import fusion

    return tuple(v for name, *operands in instructions
                 for v in (fusion.OPCODES.index(name), *operands))


_INT_SAFE_UNARY = ("neg", "abs", "sign", "square", "relu")
_INT_SAFE_BINARY = ("add", "sub", "mul", "maximum", "minimum", "squared_difference")
_FLOAT_UNARY = ("sqrt", "rsqrt", "exp", "log", "log1p", "sin", "cos", "tanh", "sigmoid",
                "reciprocal")
_FLOAT_BINARY = ("real_div", "floor_div", "floor_mod", "pow")


def _fused(feeds, dtype):
    """Fused programs built directly (the fusion pass makes them from chains): every
    instruction for the dtype, with a full, a broadcast [4] and a scalar input, and each
    reduction over trailing, leading and all axes. Inputs are positive (log, sqrt, pow)."""
    x = feeds((3, 4), dtype, low=1, high=4, positive=True)
    y = feeds((4,), dtype, low=1, high=3, positive=True, nonzero=True)
    s = feeds((), dtype, low=1, high=3, positive=True, nonzero=True)
    graph = tf.get_default_graph()
    floats = dtype.is_floating
    outs = []

    def fused(program, num_registers, inputs=(x, y, s), **attrs):
        attrs.update(program=program, num_registers=num_registers)
        outs.append(graph.create_op("_FusedElementwise", list(inputs), attrs).outputs[0])

    # 3 inputs, register r0 = operand 3, r1 = operand 4.
    for name in _INT_SAFE_UNARY + (_FLOAT_UNARY if floats else ()):
        fused(_fused_program(("mul", 3, 0, 2), (name, -1, 3, -1)), 1)
    for name in _INT_SAFE_BINARY + (_FLOAT_BINARY if floats else ()):
        fused(_fused_program(("add", 3, 0, 2), (name, 4, 3, 1), (name, -1, 4, 2)), 2)
    for code, op_type in enumerate(("Sum", "Mean", "Max", "Min"), start=1):
        for axes, keep in (((1,), False), ((-1,), True), ((0, 1), False), ((0,), True)):
            fused(_fused_program(("squared_difference", 3, 0, 1), ("sub", 3, 3, 2)), 1,
                  reduce=code, reduce_src=3, reduce_axes=axes, keep_dims=keep,
                  reduce_op=op_type)
    return outs


case("_FusedElementwise", NUMERIC, _fused)


def _random(fn, **kwargs):
    def build(feeds, dtype):
        tf.set_random_seed(7)
        op = fn([3, 4], dtype=dtype, seed=3, **kwargs)
        # Two fetches of different draws of one op sequence: run the op twice per session.
        return [op, fn(tf.constant([2, 2]), dtype=dtype, seed=5, **kwargs)]

    return build


case("RandomUniform", FLOATS, _random(tf.random_uniform))
case("RandomStandardNormal", FLOATS, _random(tf.random_normal))
case("TruncatedNormal", FLOATS, _random(tf.truncated_normal))
case("RandomUniformInt", INDEX, _random(tf.random_uniform, minval=-5, maxval=9))

# Op families may keep their cases in a module of their own, ``tests/_parity_<family>.py`` with
# ``add_cases(case)``, so that families written at the same time merge without conflicts.
for _path in sorted(pathlib.Path(__file__).parent.glob("_parity_*.py")):
    importlib.import_module(_path.stem).add_cases(case)


def _tested_op_types():
    types = []
    for op_type in registry.all_op_types():
        opdef = registry.get(op_type)
        if op_type in EXCLUDED or (opdef.stateful and op_type not in OWN_STATEFUL):
            continue
        types.append(op_type)
    return types


def test_every_op_names_a_kernel_with_both_implementations():
    """The op library names kernels; the runtime's table must bind each name to a fast and a
    reference kernel (the parity cases below then prove that they agree)."""
    unbound = []
    for op_type in registry.all_op_types():
        try:
            kernel_def = kernel_table.lookup(registry.get(op_type).kernel)
        except KeyError:
            unbound.append(op_type)
            continue
        assert callable(kernel_def.fast) and callable(kernel_def.reference), op_type
    assert not unbound, f"ops whose kernel name the kernel table does not know: {unbound}"


def test_every_op_has_a_parity_case():
    missing = [op_type for op_type in _tested_op_types() if op_type not in CASES]
    assert not missing, f"ops without a parity case in tests/test_parity.py: {missing}"


def _run(executor_name, op_type, dtype, runs=1):
    dtypes_, build = CASES[op_type]
    previous = executor_lib.set_default_executor(executor_name)
    try:
        graph = tf.Graph()
        with graph.as_default():
            feeds = _Feeds()
            fetches = build(feeds, dtype)
            ops_of_type = [op for op in graph.get_operations() if op.type == op_type]
            assert ops_of_type, f"the case for {op_type} builds no {op_type} op"
            with tf.Session(graph=graph) as session:
                return [session.run(fetches, feeds.feed_dict) for _ in range(runs)]
    finally:
        executor_lib.set_default_executor(previous)


def _assert_same(reference, fast, dtype, context):
    reference, fast = np.asarray(reference), np.asarray(fast)
    assert reference.shape == fast.shape, context
    assert reference.dtype == fast.dtype, context
    if reference.dtype.kind == "f":
        tolerance = 1e-3 if reference.dtype == np.float16 else 1e-6
        # Rounding error scales with the operands, not with each result: an element of a
        # reduction that cancels (a filter gradient's sum of terms near 16 coming to 0.06)
        # keeps the absolute error of its largest neighbours, which differs between the
        # kernels' and numpy's summation orders (and between numpy's releases).
        finite = np.abs(reference[np.isfinite(reference)])
        scale = max(1.0, float(finite.max())) if finite.size and reference.itemsize < 8 else 1.0
        np.testing.assert_allclose(fast, reference, rtol=tolerance, atol=tolerance * scale,
                                   equal_nan=True, err_msg=context)
    else:
        np.testing.assert_array_equal(fast, reference, err_msg=context)


_PARAMS = [pytest.param(op_type, dtype, id=f"{op_type}-{dtype.name}")
           for op_type, (dtypes_, _) in CASES.items() for dtype in dtypes_]


@pytest.mark.parametrize("op_type, dtype", _PARAMS)
def test_parity(op_type, dtype):
    runs = 2 if registry.get(op_type).stateful else 1
    reference = _run("reference", op_type, dtype, runs)
    fast = _run("cython", op_type, dtype, runs)
    for run_index, (ref_outputs, fast_outputs) in enumerate(zip(reference, fast)):
        for index, (ref_value, fast_value) in enumerate(zip(ref_outputs, fast_outputs)):
            _assert_same(ref_value, fast_value, dtype,
                         f"{op_type}/{dtype.name}: run {run_index}, output {index}")
    if runs == 2:
        # A stateful random op continues its sequence: the second run differs from the first.
        assert not np.array_equal(reference[0][0], reference[1][0])

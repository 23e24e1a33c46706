"""The model array ops of issue 11: values against numpy (and TF's documented examples), static
shapes, graph-time errors (ValueError/TypeError) and run-time errors (InvalidArgumentError, with
the failing op), seeding of the sampling ops, and the names TF gives."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.framework import registry


def run(fetches, feed_dict=None):
    with tf.Session() as session:
        return session.run(fetches, feed_dict)


def assert_run_error(tensor, match, feed_dict=None):
    with tf.Session() as session:
        with pytest.raises(errors.InvalidArgumentError, match=match) as info:
            session.run(tensor, feed_dict)
    assert info.value.op is tensor.op


# ---- one_hot ----------------------------------------------------------------------------------

def test_one_hot_values_axis_and_dtypes(executor):
    default = tf.one_hot([0, 2, -1, 5], 3)
    axis0 = tf.one_hot([[0, 2], [1, 1]], 3, axis=0, on_value=5, off_value=-1)
    typed = tf.one_hot(tf.constant([0, 2], tf.uint8), 3, dtype=tf.int64)
    assert default.name == "one_hot:0" and default.shape.as_list() == [4, 3]
    assert axis0.dtype == tf.int32 and axis0.shape.as_list() == [3, 2, 2]
    outs = run([default, axis0, typed])
    np.testing.assert_array_equal(outs[0], [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    assert outs[0].dtype == np.float32
    expected = np.where(np.arange(3)[:, None, None] == np.array([[0, 2], [1, 1]]), 5, -1)
    np.testing.assert_array_equal(outs[1], expected)
    assert outs[2].dtype == np.int64 and outs[2].tolist() == [[1, 0, 0], [0, 0, 1]]


def test_one_hot_errors():
    with pytest.raises(TypeError, match="does not match dtype"):
        tf.one_hot([0, 2], 3, on_value=1.0, off_value=0)
    with pytest.raises(TypeError, match="dtype parameter"):
        tf.one_hot([0, 2], 3, on_value=tf.constant(1), dtype=tf.float32)
    with pytest.raises(ValueError, match="axis must be >= -1"):
        tf.one_hot([0, 2], 3, axis=-2)
    with pytest.raises(TypeError):
        tf.one_hot([0.5], 3)
    depth = tf.placeholder(tf.int32, [])
    hot = tf.one_hot([0, 1], depth)
    assert hot.shape.as_list() == [2, None]
    assert_run_error(hot, "depth must be non-negative", {depth: -1})


# ---- pad --------------------------------------------------------------------------------------

X23 = np.array([[1, 2, 3], [4, 5, 6]], np.int32)


def test_pad_modes_against_numpy(executor):
    constant = tf.pad(X23, [[1, 0], [0, 2]])
    valued = tf.pad(X23, [[1, 0], [0, 2]], constant_values=9)
    reflect = tf.pad(X23, [[1, 1], [2, 2]], "REFLECT")
    symmetric = tf.pad(X23, [[1, 1], [2, 2]], "symmetric")
    assert [constant.op.type, valued.op.type, reflect.op.type] == ["Pad", "PadV2", "MirrorPad"]
    assert constant.name == "Pad:0" and valued.name == "PadV2:0"
    assert reflect.shape.as_list() == [4, 7]
    outs = run([constant, valued, reflect, symmetric])
    np.testing.assert_array_equal(outs[0], np.pad(X23, [[1, 0], [0, 2]]))
    np.testing.assert_array_equal(outs[1], np.pad(X23, [[1, 0], [0, 2]], constant_values=9))
    np.testing.assert_array_equal(outs[2], [[6, 5, 4, 5, 6, 5, 4], [3, 2, 1, 2, 3, 2, 1],
                                            [6, 5, 4, 5, 6, 5, 4], [3, 2, 1, 2, 3, 2, 1]])
    np.testing.assert_array_equal(outs[3], np.pad(X23, [[1, 1], [2, 2]], "symmetric"))


def test_pad_fed_paddings_and_strings(executor):
    paddings = tf.placeholder(tf.int32, [2, 2])
    value = tf.placeholder(tf.float32, [None, 3])
    padded = tf.pad(value, paddings)
    assert padded.shape.as_list() == [None, None]
    out = run(padded, {paddings: [[0, 1], [1, 0]], value: np.ones((1, 3))})
    np.testing.assert_array_equal(out, [[0, 1, 1, 1], [0, 0, 0, 0]])
    words = run(tf.pad(tf.constant([b"a", b"b"]), [[1, 1]], constant_values="z"))
    assert words.tolist() == [b"z", b"a", b"b", b"z"]


def test_pad_errors():
    with pytest.raises(ValueError, match="mode"):
        tf.pad(X23, [[1, 0], [0, 0]], "FOO")
    with pytest.raises(ValueError, match="non-negative"):
        tf.pad(X23, [[-1, 0], [0, 0]])
    with pytest.raises(ValueError, match="rank"):
        tf.pad(X23, [[1, 0]])
    assert_run_error(tf.pad(X23, [[2, 2], [2, 2]], "REFLECT"), "less than the dimension")
    assert_run_error(tf.pad(X23, [[3, 0], [0, 0]], "SYMMETRIC"), "no greater than")
    paddings = tf.placeholder(tf.int32)
    assert_run_error(tf.pad(X23, paddings), "rank of inputs", {paddings: [[1, 1]]})
    assert_run_error(tf.pad(X23, paddings), "non-negative", {paddings: [[0, -1], [0, 0]]})


def test_mirror_pad_graph_def_round_trip():
    tf.pad(tf.constant(X23), [[1, 1], [1, 1]], "REFLECT", name="mirrored")
    graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        out = run(tf.get_default_graph().get_tensor_by_name("mirrored:0"))
    np.testing.assert_array_equal(out, np.pad(X23, 1, "reflect"))


# ---- reverse, matrix_transpose -----------------------------------------------------------------

def test_reverse(executor):
    x = np.arange(24).reshape(2, 3, 4)
    axis = tf.placeholder(tf.int32, [None])
    outs = run([tf.reverse(x, [1]), tf.reverse(x, [0, -1]), tf.reverse(x, axis)],
               {axis: [2]})
    np.testing.assert_array_equal(outs[0], x[:, ::-1])
    np.testing.assert_array_equal(outs[1], x[::-1, :, ::-1])
    np.testing.assert_array_equal(outs[2], x[..., ::-1])
    with pytest.raises(ValueError, match="more than once"):
        tf.reverse(x, [1, -2])
    with pytest.raises(ValueError, match="out of valid range"):
        tf.reverse(x, [3])
    assert_run_error(tf.reverse(x, axis), "more than once", {axis: [0, 0]})


def test_matrix_transpose(executor):
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    unknown = tf.placeholder(tf.float32)
    static = tf.matrix_transpose(x)
    assert static.shape.as_list() == [2, 4, 3]
    outs = run([static, tf.matrix_transpose(unknown)], {unknown: x})
    np.testing.assert_array_equal(outs[0], x.transpose(0, 2, 1))
    np.testing.assert_array_equal(outs[1], x.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="rank >= 2"):
        tf.matrix_transpose(tf.zeros([2]))


# ---- cumsum, reduce_logsumexp ------------------------------------------------------------------

@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumsum_against_numpy(executor, exclusive, reverse):
    x = np.arange(1, 13, dtype=np.float64).reshape(3, 4)
    for axis in (0, 1, -1):
        source = np.flip(x, axis) if reverse else x
        expected = np.cumsum(source, axis=axis)
        if exclusive:
            expected = expected - source
        if reverse:
            expected = np.flip(expected, axis)
        out = run(tf.cumsum(x, axis, exclusive=exclusive, reverse=reverse))
        np.testing.assert_allclose(out, expected)


def test_cumsum_dtypes_and_errors(executor):
    ints = run(tf.cumsum(tf.constant([1, 2, 3], tf.int8), exclusive=True))
    assert ints.dtype == np.int8 and ints.tolist() == [0, 1, 3]
    assert tf.cumsum([1.0, 2.0]).name == "Cumsum_1:0"
    with pytest.raises(TypeError):
        tf.cumsum([True, False])
    assert_run_error(tf.cumsum([[1.0, 2.0]], axis=2), r"scan axis in the range \[-2, 2\)")


def test_reduce_logsumexp(executor):
    x = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -np.inf]], np.float32)
    full = tf.reduce_logsumexp(x)
    rows = tf.reduce_logsumexp(x, axis=1, keepdims=True)
    old = tf.reduce_logsumexp(x, reduction_indices=[0], keep_dims=False)
    assert full.name == "ReduceLogSumExp:0" and rows.shape.as_list() == [2, 1]
    outs = run([full, rows, old, tf.reduce_logsumexp([[np.inf, 1.0]], 1)])
    np.testing.assert_allclose(outs[1], [[np.log(np.exp([1, 2, 3]).sum())],
                                         [1000 + np.log(2)]], rtol=1e-6)
    np.testing.assert_allclose(outs[0], 1000 + np.log(2), rtol=1e-6)
    np.testing.assert_allclose(outs[2], [1000, 1000, 3], rtol=1e-6)
    assert outs[3].tolist() == [np.inf]
    with pytest.raises(TypeError):
        tf.reduce_logsumexp([1, 2])


# ---- einsum -----------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ji,jk->ik", [(3, 2), (3, 4)]),
    ("ij,kj->ik", [(2, 3), (4, 3)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bij,bkj->bki", [(2, 3, 4), (2, 5, 4)]),
    ("ij->ji", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,i->", [(4,)] * 2),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("abc,cd->dba", [(2, 3, 4), (4, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bik,kj->bij", [(2, 3, 4), (4, 5)]),
    ("ijk,ikl->ijl", [(2, 1, 3), (2, 3, 2)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_against_numpy(executor, equation, shapes):
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(shape) for shape in shapes]
    result = tf.einsum(equation, *values)
    expected = np.einsum(equation, *values)
    assert result.shape.as_list() == list(expected.shape)
    np.testing.assert_allclose(run(result), expected, rtol=1e-10, atol=1e-12)


def test_einsum_matmul_is_one_op_and_dynamic_shapes(executor):
    result = tf.einsum("ij,jk->ik", tf.ones([2, 3]), tf.ones([3, 4]))
    assert result.op.type == "MatMul" and result.name.startswith("einsum/")
    a = tf.placeholder(tf.float64, [None, None, 3])
    b = tf.placeholder(tf.float64, [None, 3, None])
    rng = np.random.default_rng(1)
    va, vb = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 3, 5))
    np.testing.assert_allclose(run(tf.einsum("bij,bjk->bki", a, b), {a: va, b: vb}),
                               np.einsum("bij,bjk->bki", va, vb))


def test_einsum_errors():
    x = tf.ones([2, 3])
    with pytest.raises(ValueError, match="not present"):
        tf.einsum("ij,jk->ikz", x, tf.ones([3, 4]))
    with pytest.raises(ValueError, match="ellipses"):
        tf.einsum("...ij->...ji", x)
    with pytest.raises(ValueError, match="rank"):
        tf.einsum("ijk->i", x)
    with pytest.raises(ValueError, match="inputs"):
        tf.einsum("ij,jk->ik", x)
    with pytest.raises(TypeError):
        tf.einsum("ij,jk->ik", x, tf.ones([3, 4], tf.float64))


# ---- boolean_mask, sequence_mask ---------------------------------------------------------------

def test_boolean_mask(executor):
    x = np.array([[1, 2], [3, 4], [5, 6]])
    rows = tf.boolean_mask(x, [True, False, True])
    columns = tf.boolean_mask(x, [True, False], axis=1)
    flat = tf.boolean_mask(x, [[True, False], [True, True], [False, False]])
    assert rows.name == "boolean_mask/GatherV2:0"
    assert rows.shape.as_list() == [None, 2] and columns.shape.as_list() == [3, None]
    mask = tf.placeholder(tf.bool, [None])
    fed = tf.boolean_mask(tf.placeholder_with_default(x, [None, 2]), mask)
    outs = run([rows, columns, flat, fed], {mask: [False, True, True]})
    assert outs[0].tolist() == [[1, 2], [5, 6]]
    assert outs[1].tolist() == [[1], [3], [5]]
    assert outs[2].tolist() == [1, 3, 4]
    assert outs[3].tolist() == [[3, 4], [5, 6]]
    with pytest.raises(ValueError, match="scalar"):
        tf.boolean_mask(x, True)
    with pytest.raises(ValueError, match="incompatible"):
        tf.boolean_mask(x, [True, False])
    with pytest.raises(ValueError, match="must be specified"):
        tf.boolean_mask(x, tf.placeholder(tf.bool))


def test_sequence_mask(executor):
    given = tf.sequence_mask([1, 3, 2], 5)
    longest = tf.sequence_mask([[1, 3], [2, 0]])
    floats = tf.sequence_mask([1, 3, 2], 4, dtype=tf.float32)
    assert given.shape.as_list() == [3, 5] and given.dtype == tf.bool
    assert floats.dtype == tf.float32
    outs = run([given, longest, floats])
    np.testing.assert_array_equal(outs[0], np.arange(5) < np.array([[1], [3], [2]]))
    np.testing.assert_array_equal(outs[1], np.arange(3) < np.array([[1, 3], [2, 0]])[..., None])
    np.testing.assert_array_equal(outs[2], (np.arange(4) < np.array([[1], [3], [2]])) * 1.0)
    with pytest.raises(ValueError, match="scalar"):
        tf.sequence_mask([1, 2], [3, 4])


# ---- gather_nd, scatter_nd ---------------------------------------------------------------------

def test_gather_nd(executor):
    params = np.arange(24).reshape(2, 3, 4)
    elements = tf.gather_nd(params, [[1, 0, 2], [0, 2, 3]])
    rows = tf.gather_nd(params, [[[1, 2]], [[0, 0]]])
    whole = tf.gather_nd(params, np.zeros((2, 0), np.int64))
    assert elements.shape.as_list() == [2] and rows.shape.as_list() == [2, 1, 4]
    assert whole.shape.as_list() == [2, 2, 3, 4]
    outs = run([elements, rows, whole])
    assert outs[0].tolist() == [params[1, 0, 2], params[0, 2, 3]]
    np.testing.assert_array_equal(outs[1], [[params[1, 2]], [params[0, 0]]])
    np.testing.assert_array_equal(outs[2], np.stack([params, params]))
    with pytest.raises(ValueError, match="params.rank"):
        tf.gather_nd(params, [[0, 0, 0, 0]])
    assert_run_error(tf.gather_nd([[1, 2], [3, 4]], [[2, 0]]),
                     r"indices\[0\] = \[2, 0\] does not index into param shape \[2,2\]")
    assert_run_error(tf.gather_nd([[1, 2], [3, 4]], [[0, 0], [-1, 0]]), r"indices\[1\]")


def test_scatter_nd(executor):
    scattered = tf.scatter_nd([[4], [3], [1], [7], [4]], [9.0, 10, 11, 12, 1], [8])
    slices = tf.scatter_nd([[0], [2]], [[5, 5, 5, 5], [6, 6, 6, 6]], tf.constant([4, 4]))
    assert scattered.shape.as_list() == [8]
    outs = run([scattered, slices])
    assert outs[0].tolist() == [0, 11, 0, 10, 10, 0, 0, 12]
    np.testing.assert_array_equal(outs[1], [[5] * 4, [0] * 4, [6] * 4, [0] * 4])
    with pytest.raises(ValueError, match="updates"):
        tf.scatter_nd([[0], [1]], [1.0, 2.0, 3.0], [4])
    assert_run_error(tf.scatter_nd([[9]], [9.0], [8]),
                     r"indices\[0\] = \[9\] does not index into shape \[8\]")
    shape = tf.placeholder(tf.int32, [1])
    assert_run_error(tf.scatter_nd([[-1]], [9.0], shape), "does not index", {shape: [8]})


# ---- segment_sum, dynamic_partition, dynamic_stitch --------------------------------------------

def test_segment_sum(executor):
    data = np.array([[1.0, 2], [3, 4], [5, 6]])
    summed = tf.segment_sum(data, [0, 0, 2])
    assert summed.shape.as_list() == [None, 2]
    assert run(summed).tolist() == [[4, 6], [0, 0], [5, 6]]
    ints = run(tf.segment_sum(tf.constant([1, 2, 3, 4], tf.int16), [1, 1, 1, 4]))
    assert ints.dtype == np.int16 and ints.tolist() == [0, 6, 0, 0, 4]
    assert_run_error(tf.segment_sum(data, [1, 0, 2]), "not increasing")
    assert_run_error(tf.segment_sum(data, [-1, 0, 2]), "out of range")
    assert_run_error(tf.segment_sum(data, [0, 0]), "same size as dimension 0")


def test_dynamic_partition_and_stitch(executor):
    parts = tf.dynamic_partition([10, 20, 30, 40, 50], [0, 1, 0, 2, 1], 3)
    assert [p.name for p in parts] == [f"DynamicPartition:{i}" for i in range(3)]
    assert [p.shape.as_list() for p in parts] == [[None]] * 3
    matrix = tf.dynamic_partition(np.arange(12).reshape(2, 3, 2), [[1, 0, 1], [1, 1, 0]], 2)
    stitched = tf.dynamic_stitch([[0, 2], [1, 3]], [[1.0, 2.0], [3.0, 4.0]])
    gap = tf.dynamic_stitch([[0, 3], [1]], [[1.0, 2.0], [7.0]])
    repeated = tf.dynamic_stitch([[0, 1], [1]], [[1.0, 2.0], [7.0]])
    assert stitched.shape.as_list() == [4]
    outs = run([parts, matrix, stitched, gap, repeated])
    assert [p.tolist() for p in outs[0]] == [[10, 30], [20, 50], [40]]
    assert outs[1][0].tolist() == [[2, 3], [10, 11]]
    assert outs[1][1].tolist() == [[0, 1], [4, 5], [6, 7], [8, 9]]
    assert outs[2].tolist() == [1, 3, 2, 4]
    assert outs[3].tolist() == [1, 7, 0, 2]
    assert outs[4].tolist() == [1, 7]


def test_dynamic_partition_and_stitch_errors():
    with pytest.raises(ValueError, match="num_partitions"):
        tf.dynamic_partition([1, 2], [0, 0], 0)
    with pytest.raises(TypeError, match="don't all match"):
        tf.dynamic_stitch([[0], [1]], [[1.0], [1]])
    with pytest.raises(ValueError, match="as many"):
        tf.dynamic_stitch([[0], [1]], [[1.0]])
    partitions = tf.placeholder(tf.int32, [None])
    assert_run_error(tf.dynamic_partition([10, 20, 30, 40], partitions, 3)[0],
                     r"partitions\[3\] = 3 is not in \[0, 3\)", {partitions: [0, 1, 0, 3]})
    index = tf.placeholder(tf.int32, [None])
    assert_run_error(tf.dynamic_stitch([index], [[1.0, 2.0]]), r"indices\[1\] is out of range",
                     {index: [0, -1]})


# ---- random_shuffle, multinomial, categorical --------------------------------------------------

def test_random_shuffle_is_a_seeded_permutation(executor):
    tf.set_random_seed(4)
    values = np.arange(40).reshape(20, 2)
    shuffled = tf.random_shuffle(values, seed=1)
    assert shuffled.name == "RandomShuffle:0" and shuffled.op.op_def.stateful
    with tf.Session() as session:
        first, second = session.run(shuffled), session.run(shuffled)
    with tf.Session() as session:
        again = session.run(shuffled)
    for out in (first, second):
        assert sorted(out[:, 0].tolist()) == values[:, 0].tolist()
        np.testing.assert_array_equal(out[:, 1], out[:, 0] + 1)  # rows stay whole
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, again)
    assert run(tf.random_shuffle(7)) == 7
    assert tf.random.shuffle is tf.random_shuffle


def test_multinomial_and_categorical(executor):
    tf.set_random_seed(3)
    with np.errstate(divide="ignore"):
        logits = np.log([[0.2, 0.8, 0.0], [0.5, 0.25, 0.25]])
    drawn = tf.multinomial(logits, 4000, seed=2)
    typed = tf.random.categorical(logits, 7, dtype=tf.int32, seed=2)
    assert drawn.name == "multinomial/Multinomial:0" and drawn.dtype == tf.int64
    assert typed.name == "categorical/Multinomial:0" and typed.dtype == tf.int32
    assert drawn.shape.as_list() == [2, 4000]
    with tf.Session() as session:
        samples, small = session.run([drawn, typed])
        repeat = session.run(drawn)
    with tf.Session() as session:
        np.testing.assert_array_equal(session.run(drawn), samples)
    assert not np.array_equal(samples, repeat)
    assert small.shape == (2, 7) and small.dtype == np.int32
    assert not (samples[0] == 2).any()  # probability 0
    frequencies = [np.bincount(row, minlength=3) / row.size for row in samples]
    np.testing.assert_allclose(frequencies[0], [0.2, 0.8, 0.0], atol=0.03)
    np.testing.assert_allclose(frequencies[1], [0.5, 0.25, 0.25], atol=0.03)
    huge = run(tf.multinomial([[1000.0, 0.0]], 5))
    assert huge.tolist() == [[0] * 5]


def test_multinomial_errors():
    with pytest.raises(ValueError, match="rank 2"):
        tf.multinomial([1.0, 2.0], 3)
    count = tf.placeholder(tf.int32, [])
    assert_run_error(tf.multinomial([[1.0, 2.0]], count), "nonnegative", {count: -1})
    logits = tf.placeholder(tf.float32, [None, None])
    assert_run_error(tf.multinomial(logits, 2), "num_classes should be positive",
                     {logits: np.zeros((1, 0), np.float32)})


def test_not_differentiable_ops_give_no_gradient():
    x = tf.placeholder(tf.float32, [3])
    shuffled = tf.reduce_sum(tf.random_shuffle(x))
    hot = tf.reduce_sum(tf.one_hot([0, 1], 3, on_value=x[0]))
    assert tf.gradients([shuffled], [x]) == [None]
    assert tf.gradients([hot], [x]) == [None]
    for op_type in ("Multinomial", "RandomShuffle", "OneHot"):
        assert registry.get(op_type).gradient == registry.NOT_DIFFERENTIABLE


def test_multinomial_keeps_rows_apart(executor):
    # Each row can only draw its own class: one vectorized search over all rows must not let
    # a draw fall into a neighbouring row.
    logits = np.full((50, 3), -np.inf)
    logits[np.arange(50), np.arange(50) % 3] = 0.0
    samples = run(tf.multinomial(logits, 20, seed=5))
    np.testing.assert_array_equal(samples, np.repeat((np.arange(50) % 3)[:, None], 20, 1))


def test_ops_and_gradients_run_on_a_worker_device():
    rng = np.random.default_rng(3)
    data = rng.standard_normal((4, 3))
    x = tf.placeholder(tf.float64, [4, 3])
    with tf.device("/cpu:1"):
        summed = tf.segment_sum(tf.cumsum(x, 1), [0, 0, 1, 1])
        picked = tf.gather_nd(tf.pad(x, [[1, 0], [0, 0]], "SYMMETRIC"), [[0, 2], [4, 1]])
        parts = tf.dynamic_partition(x, [1, 0, 1, 0], 2)
        drawn = tf.multinomial(x[:2], 3, seed=1)
        loss = tf.reduce_sum(summed) + tf.reduce_sum(picked) + tf.reduce_sum(parts[1])
    grad = tf.gradients(loss, [x])[0]
    backward = [op for op in tf.get_default_graph().get_operations()
                if op.name.startswith(("gradients/Cumsum_grad/", "gradients/MirrorPad_grad/"))]
    assert backward and all(op.device == "/device:CPU:1" for op in backward)
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as session:
        outs = session.run([summed, picked, parts, drawn, grad], {x: data})
    cums = np.cumsum(data, 1)
    np.testing.assert_allclose(outs[0], [cums[:2].sum(0), cums[2:].sum(0)])
    padded = np.pad(data, [[1, 0], [0, 0]], "symmetric")
    np.testing.assert_allclose(outs[1], [padded[0, 2], padded[4, 1]])
    np.testing.assert_allclose(outs[2][1], data[[0, 2]])
    assert outs[3].shape == (2, 3)
    expected = np.tile([3.0, 2.0, 1.0], (4, 1))  # d sum(cumsum) / dx
    expected[0, 2] += 1  # padded[0] mirrors data[0]
    expected[3, 1] += 1  # padded[4] is data[3]
    expected[[0, 2]] += 1  # partition 1
    np.testing.assert_allclose(outs[4], expected)


def test_graph_def_round_trip_of_every_op():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(np.arange(12.0).reshape(3, 4))
        outs = [tf.cumsum(x, 1, exclusive=True, reverse=True), tf.one_hot([0, 2], 3, axis=0),
                tf.multinomial(x, 3, seed=1), tf.dynamic_partition(x, [0, 1, 0], 2)[1],
                tf.dynamic_stitch([[1], [0]], [x[:1], x[1:2]]), tf.segment_sum(x, [0, 0, 1]),
                tf.gather_nd(x, [[1, 1]]), tf.scatter_nd([[1]], [[1.0, 2, 3, 4]], [2, 4]),
                tf.reverse(x, [1]), tf.pad(x, [[1, 1], [0, 0]], constant_values=2.0),
                tf.pad(x, [[1, 1], [0, 0]], "SYMMETRIC"), tf.random_shuffle(x, seed=2),
                tf.einsum("ij,kj->ik", x, x)]
        names = [out.name for out in outs]
        with tf.Session() as session:
            expected = session.run(outs)
    with tf.Graph().as_default() as imported:
        tf.import_graph_def(graph.as_graph_def(), name="")
        with tf.Session() as session:
            got = session.run([imported.get_tensor_by_name(name) for name in names])
    for name, want, have in zip(names, expected, got):
        np.testing.assert_array_equal(have, want, err_msg=name)

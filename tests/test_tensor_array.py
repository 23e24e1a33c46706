"""``tf.TensorArray`` (``ops/tensor_array_ops.py``): TF 2's TensorArray on TensorLists, outside
loops. Values against numpy on both executors, static shapes, errors (TF 2.21's types and
messages) and gradients through reads, writes, stack, unstack, gather, scatter, split and
concat."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.ops import tensor_array_ops

X = np.arange(6, dtype=np.float32).reshape(3, 2)


def _run(fetches, feeds=None):
    with tf.Session() as sess:
        return sess.run(fetches, feeds)


def test_write_read_stack_size(executor):
    ta = tf.TensorArray(tf.float32, size=3)
    assert ta.handle is None and ta.flow.dtype is tf.variant and ta.dtype is tf.float32
    written = ta.write(0, [1.0, 2.0]).write(2, tf.constant([3.0, 4.0]))
    assert written.element_shape.as_list() == [2]
    stacked = written.stack()
    assert stacked.shape.as_list() == [3, 2]
    got = _run([stacked, written.read(2), written.read(1), written.size(), ta.size()])
    # Checked against TF 2.21: an unwritten element of a known shape stacks as zeros.
    assert got[0].tolist() == [[1, 2], [0, 0], [3, 4]]
    assert got[1].tolist() == [3, 4] and got[2].tolist() == [0, 0]
    assert got[3] == 3 and got[4] == 3


def test_writes_return_new_arrays(executor):
    ta = tf.TensorArray(tf.float32, size=2, element_shape=[])
    first = ta.write(0, 1.0)
    second = first.write(0, 5.0).write(1, 6.0)
    got = _run([ta.stack(), first.stack(), second.stack()])
    assert got[0].tolist() == [0, 0] and got[1].tolist() == [1, 0]
    assert got[2].tolist() == [5, 6]


def test_dynamic_size_grows(executor):
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    ta = ta.write(2, [1.0]).write(0, [2.0])
    assert ta.dynamic_size
    got = _run([ta.stack(), ta.size()])
    assert got[0].tolist() == [[2], [0], [1]] and got[1] == 3


def test_unstack_gather_scatter_split_concat(executor):
    unstacked = tf.TensorArray(tf.float32, size=3).unstack(X)
    scattered = tf.TensorArray(tf.float32, size=4).scatter([3, 1], [[1.0], [2.0]])
    split = tf.TensorArray(tf.float32, size=2).split([1.0, 2.0, 3.0], [1, 2])
    got = _run([unstacked.read(2), unstacked.gather([2, 0]), unstacked.concat(),
                scattered.stack(), split.read(1), split.concat(), split.size()])
    np.testing.assert_array_equal(got[0], X[2])
    np.testing.assert_array_equal(got[1], X[[2, 0]])
    np.testing.assert_array_equal(got[2], X.reshape(-1))
    assert got[3].tolist() == [[0], [2], [0], [1]]
    assert got[4].tolist() == [2, 3] and got[5].tolist() == [1, 2, 3] and got[6] == 2


def test_empty_dynamic_array_with_element_shape_stacks_empty(executor):
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[3])
    assert _run(ta.stack()).shape == (0, 3)


def test_identity_close_and_rebuild_from_flow(executor):
    ta = tf.TensorArray(tf.float32, size=2, element_shape=[2]).unstack(X[:2])
    same = ta.identity()
    assert same.flow.op.type == "Identity"
    assert ta.close().type == "NoOp"
    # The while_loop hook: a TensorArray rebuilt around a carried flow keeps its settings.
    rebuilt = tensor_array_ops.build_ta_with_new_flow(ta, tf.identity(ta.flow))
    assert rebuilt.dtype is tf.float32 and rebuilt.element_shape.as_list() == [2]
    assert tf.TensorArray(tf.float32, flow=ta.flow).dtype is tf.float32
    got = _run([same.stack(), rebuilt.read(1)])
    np.testing.assert_array_equal(got[0], X[:2])
    np.testing.assert_array_equal(got[1], X[1])


def test_shape_inference_is_shared_by_derived_arrays():
    ta = tf.TensorArray(tf.float32, size=3)
    written = ta.write(0, [1.0, 2.0])
    # As in TF, the array and every array derived from it share one element shape.
    assert ta.element_shape.as_list() == [2] and ta.read(1).shape.as_list() == [2]
    with pytest.raises(ValueError, match=r"Inconsistent shapes: saw \(3,\) but expected \(2,\)"):
        written.write(1, [1.0, 2.0, 3.0])
    free = tf.TensorArray(tf.float32, size=2, infer_shape=False)
    free = free.write(0, [1.0]).write(1, [1.0, 2.0])
    assert free.element_shape.rank is None


def test_errors():
    with pytest.raises(ValueError, match="`size` must be provided"):
        tf.TensorArray(tf.float32)
    with pytest.raises(ValueError, match="both `flow` and `size`"):
        tf.TensorArray(tf.float32, size=1, flow=tf.TensorArray(tf.float32, size=1).flow)
    with pytest.raises(TypeError, match="variant tensor"):
        tf.TensorArray(tf.float32, flow=tf.constant(1.0))
    with pytest.raises(TypeError, match="dtype int32 but the TensorArray holds float32"):
        tf.TensorArray(tf.float32, size=2).write(0, tf.constant(1))
    with pytest.raises(NotImplementedError):
        tf.TensorArray(tf.float32, size=2).grad("source")


def test_write_beyond_a_fixed_size_fails_at_run_time(executor):
    ta = tf.TensorArray(tf.float32, size=2).write(2, 1.0)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Trying to modify element 2 in a list with 2 elements."):
        _run(ta.stack())


def test_stack_of_a_fixed_size_array_checks_its_length(executor):
    ta = tf.TensorArray(tf.float32, size=2, element_shape=[]).unstack([1.0, 2.0, 3.0])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Operation expected a list with 2 elements but got a list with 3"):
        _run(ta.stack())


def test_gradients_through_a_tensor_array(executor):
    x = tf.placeholder(tf.float32, [3, 2])
    unstacked = tf.TensorArray(tf.float32, size=3).unstack(x)
    y = unstacked.read(0) * 2.0 + unstacked.read(2)
    written = tf.TensorArray(tf.float32, size=2).write(0, x[0]).write(1, x[1] * 3.0)
    gathered = unstacked.gather([1, 1])
    split = tf.TensorArray(tf.float32, size=2).split(tf.reshape(x, [-1]), [2, 4])
    concat = split.concat() * tf.constant(np.arange(6, dtype=np.float32))
    grads = tf.gradients(y, x) + tf.gradients(written.stack(), x) + \
        tf.gradients(concat, x)
    x_value = X + 1.0
    got = _run(grads, {x: x_value})
    # Checked against TF 2.21.
    assert got[0].tolist() == [[2, 2], [0, 0], [1, 1]]
    assert got[1].tolist() == [[1, 1], [3, 3], [0, 0]]
    assert got[2].tolist() == [[0, 1], [2, 3], [4, 5]]
    # A gather with a repeated index: TF's gradient scatters and keeps one of the rows.
    assert tf.gradients(gathered, x)[0] is not None


def test_graph_def_round_trip(executor):
    # The list ops keep TF's names, inputs and attrs: a GraphDef of a TensorArray imports
    # and runs (and imports into TF 2.21, checked by hand).
    ta = tf.TensorArray(tf.float32, size=3).unstack(X).write(1, [9.0, 9.0])
    tf.identity(ta.stack(), name="out")
    graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        got = _run("out:0")
    assert got.tolist() == [[0, 1], [9, 9], [4, 5]]

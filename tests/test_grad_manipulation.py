"""Numeric gradient checks of the model array ops (issue 11, array part): Cumsum, Pad, PadV2,
MirrorPad, MirrorPadGrad, ReverseV2, GatherNd, ScatterNd, SegmentSum, DynamicPartition and
DynamicStitch; and of the composites reduce_logsumexp, einsum, matrix_transpose and
boolean_mask, whose gradients come from the ops they are made of."""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(11)


def _floats(*shape):
    return RNG.uniform(-2, 2, size=shape)


def _fixed(tensor, shape):
    # Outputs whose first dimension depends on values get their static shape here, so that
    # the checker can weight them.
    tensor.set_shape(shape)
    return tensor


def _mirror_pad_grad(x, mode):
    graph = tf.get_default_graph()
    paddings = tf.constant([[1, 2], [2, 0]])
    return graph.create_op("MirrorPadGrad", [x, paddings], {"mode": mode}).outputs[0]


GRADIENT_CASES = [
    GradCase("Cumsum", lambda x: tf.cumsum(x, axis=1), [_floats(2, 4)]),
    GradCase("Cumsum", lambda x: tf.cumsum(x, axis=0, exclusive=True), [_floats(3, 2)],
             id="Cumsum-exclusive"),
    GradCase("Cumsum", lambda x: tf.cumsum(x, axis=-1, reverse=True), [_floats(2, 3)],
             id="Cumsum-reverse"),
    GradCase("Cumsum", lambda x: tf.cumsum(x, 1, exclusive=True, reverse=True),
             [_floats(2, 4)], id="Cumsum-exclusive-reverse"),
    GradCase("Pad", lambda x: tf.pad(x, [[1, 0], [0, 2]]), [_floats(2, 3)]),
    GradCase("PadV2", lambda x: tf.pad(x, [[0, 1], [2, 1]], constant_values=3.0),
             [_floats(2, 2)]),
    GradCase("MirrorPad", lambda x: tf.pad(x, [[1, 1], [2, 1]], "REFLECT"), [_floats(3, 3)]),
    GradCase("MirrorPad", lambda x: tf.pad(x, [[2, 1], [0, 3]], "SYMMETRIC"),
             [_floats(2, 3)], id="MirrorPad-symmetric"),
    GradCase("MirrorPadGrad", lambda x: _mirror_pad_grad(x, "REFLECT"), [_floats(6, 5)]),
    GradCase("MirrorPadGrad", lambda x: _mirror_pad_grad(x, "SYMMETRIC"), [_floats(5, 4)],
             id="MirrorPadGrad-symmetric"),
    GradCase("ReverseV2", lambda x: tf.reverse(x, [0, 2]), [_floats(2, 3, 2)]),
    GradCase("GatherNd", lambda x: tf.gather_nd(x, [[1, 0], [0, 2], [1, 0]]), [_floats(2, 3)]),
    GradCase("GatherNd", lambda x: tf.gather_nd(x, [[[1], [0]], [[1], [1]]]), [_floats(2, 3)],
             id="GatherNd-slices"),
    GradCase("GatherNd", lambda x: tf.gather_nd(x, [[2], [0], [2]]), [_floats(3, 2)],
             id="GatherNd-rows-as-IndexedSlices"),
    GradCase("ScatterNd", lambda u: tf.scatter_nd([[3], [1], [3]], u, [5, 2]),
             [_floats(3, 2)]),
    GradCase("SegmentSum", lambda x: _fixed(tf.segment_sum(x, [0, 0, 2, 3]), [4, 2]),
             [_floats(4, 2)]),
    GradCase("DynamicPartition", lambda x: [
        _fixed(part, [n, 2]) for part, n in zip(tf.dynamic_partition(x, [1, 0, 2, 1, 0], 3),
                                                (2, 2, 1))], [_floats(5, 2)]),
    GradCase("DynamicStitch", lambda a, b: tf.dynamic_stitch([[0, 3], [[1], [2]]], [a, b]),
             [_floats(2, 3), _floats(2, 1, 3)]),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)


def test_gather_nd_of_rows_has_a_sparse_gradient():
    params = tf.placeholder(tf.float64, [4, 2])
    grad = tf.gradients(tf.reduce_sum(tf.gather_nd(params, [[3], [1]])), [params])[0]
    assert isinstance(grad, tf.IndexedSlices)
    with tf.Session() as session:
        values, indices = session.run([grad.values, grad.indices], {params: np.ones((4, 2))})
    assert indices.tolist() == [3, 1] and values.tolist() == [[1, 1], [1, 1]]


# Composites: their gradients come from the ops they are made of; each case names one of them.
COMPOSITE_CASES = [
    GradCase("Log", lambda x: tf.reduce_logsumexp(x, axis=1), [_floats(2, 3)],
             id="reduce_logsumexp"),
    GradCase("Log", lambda x: tf.reduce_logsumexp(x + 800.0, keepdims=True), [_floats(2, 3)],
             id="reduce_logsumexp-large", tolerance=1e-5),
    GradCase("MatMul", lambda a, b: tf.einsum("ij,jk->ik", a, b),
             [_floats(2, 3), _floats(3, 2)], id="einsum-matmul"),
    GradCase("BatchMatMulV2", lambda a, b: tf.einsum("bij,bkj->bki", a, b),
             [_floats(2, 2, 3), _floats(2, 2, 3)], id="einsum-batch"),
    GradCase("MatMul", lambda a, b, c: tf.einsum("ij,jk,kl->il", a, b, c),
             [_floats(2, 3), _floats(3, 2), _floats(2, 2)], id="einsum-chain"),
    GradCase("MatMul", lambda a, b: tf.einsum("i,j->ij", a, b), [_floats(3), _floats(2)],
             id="einsum-outer"),
    GradCase("Sum", lambda a: tf.einsum("ii->i", a), [_floats(3, 3)], id="einsum-diagonal"),
    GradCase("Transpose", lambda a: tf.matrix_transpose(a), [_floats(2, 3, 2)],
             id="matrix_transpose"),
    GradCase("GatherV2", lambda x: _fixed(tf.boolean_mask(x, [True, False, True]), [2, 2]),
             [_floats(3, 2)], id="boolean_mask"),
    GradCase("GatherV2", lambda x: _fixed(tf.boolean_mask(x, [False, True], axis=1), [3, 1]),
             [_floats(3, 2)], id="boolean_mask-axis"),
]


@pytest.mark.parametrize("case", COMPOSITE_CASES, ids=case_ids(COMPOSITE_CASES))
def test_composite_gradient(case):
    check_case(case)

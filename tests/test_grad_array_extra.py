"""Numeric gradient checks of TF 1's remaining array ops (``ops/array_extra_ops.py``):
ReverseSequence, BroadcastTo, Roll, SpaceToDepth, DepthToSpace, SpaceToBatchND,
BatchToSpaceND, Diag, DiagPart, the TensorScatter family, EnsureShape and ExtractImagePatches;
and of the composites sort, repeat, tensordot and batch_gather, whose gradients come from the
ops they are made of."""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(23)


def _floats(*shape):
    return RNG.uniform(-2, 2, size=shape)


def _distinct(*shape):
    # Values at least 0.01 apart, so that an extremum never ties within the difference step.
    values = np.arange(int(np.prod(shape)), dtype=np.float64) * 0.01 - 0.3
    RNG.shuffle(values)
    return values.reshape(shape)


GRADIENT_CASES = [
    GradCase("ReverseSequence", lambda x: tf.reverse_sequence(x, [2, 0, 4], seq_axis=1),
             [_floats(3, 4, 2)]),
    GradCase("BroadcastTo", lambda x: tf.broadcast_to(x, [2, 3, 4]), [_floats(3, 1)]),
    GradCase("BroadcastTo", lambda x: tf.broadcast_to(x, [2, 3]), [_floats(2, 3)],
             id="BroadcastTo-same"),
    GradCase("Roll", lambda x: tf.roll(x, [1, -3], [0, 1]), [_floats(3, 4)]),
    GradCase("SpaceToDepth", lambda x: tf.space_to_depth(x, 2), [_floats(1, 4, 2, 3)]),
    GradCase("SpaceToDepth", lambda x: tf.space_to_depth(x, 2, data_format="NCHW"),
             [_floats(1, 2, 4, 2)], id="SpaceToDepth-NCHW"),
    GradCase("DepthToSpace", lambda x: tf.depth_to_space(x, 2), [_floats(2, 1, 2, 8)]),
    GradCase("SpaceToBatchND", lambda x: tf.space_to_batch_nd(x, [2, 3], [[1, 1], [0, 1]]),
             [_floats(1, 2, 5, 2)]),
    GradCase("BatchToSpaceND", lambda x: tf.batch_to_space_nd(x, [2, 2], [[1, 0], [0, 1]]),
             [_floats(4, 2, 2, 1)]),
    GradCase("SpaceToBatch", lambda x: tf.get_default_graph().create_op(
        "SpaceToBatch", [x, tf.constant([[1, 1], [0, 2]])], {"block_size": 2}).outputs[0],
        [_floats(1, 2, 2, 2)]),
    GradCase("BatchToSpace", lambda x: tf.get_default_graph().create_op(
        "BatchToSpace", [x, tf.constant([[1, 0], [0, 1]])], {"block_size": 2}).outputs[0],
        [_floats(4, 2, 1, 2)]),
    GradCase("Diag", tf.diag, [_floats(2, 3)]),
    GradCase("DiagPart", tf.diag_part, [_floats(3, 3)]),
    GradCase("TensorScatterUpdate",
             lambda t, u: tf.tensor_scatter_nd_update(t, [[2], [0]], u),
             [_floats(4, 3), _floats(2, 3)]),
    GradCase("TensorScatterAdd",
             lambda t, u: tf.tensor_scatter_nd_add(t, [[1, 2], [3, 0], [1, 2]], u),
             [_floats(4, 3), _floats(3)]),
    GradCase("TensorScatterSub", lambda t, u: tf.tensor_scatter_nd_sub(t, [[3], [1]], u),
             [_floats(4, 2), _floats(2, 2)]),
    GradCase("TensorScatterMax",
             lambda t, u: tf.tensor_scatter_nd_max(t, [[0, 1], [2, 2], [3, 0]], u),
             [_distinct(4, 3), _distinct(3)]),
    GradCase("TensorScatterMin",
             lambda t, u: tf.tensor_scatter_nd_min(t, [[0, 1], [2, 2], [3, 0]], u),
             [_distinct(4, 3), _distinct(3)]),
    GradCase("EnsureShape", lambda x: tf.ensure_shape(x, [None, 3]), [_floats(2, 3)]),
    GradCase("ExtractImagePatches", lambda x: tf.extract_image_patches(
        x, [1, 2, 3, 1], [1, 2, 1, 1], [1, 1, 1, 1], "VALID"), [_floats(2, 5, 4, 2)]),
    GradCase("ExtractImagePatches", lambda x: tf.extract_image_patches(
        x, [1, 3, 2, 1], [1, 2, 2, 1], [1, 2, 1, 1], "SAME"), [_floats(1, 5, 5, 2)],
        id="ExtractImagePatches-SAME-rates"),
]

COMPOSITE_CASES = [
    GradCase("TopKV2", lambda x: tf.sort(x, axis=0), [_distinct(4, 3)], id="sort"),
    GradCase("TopKV2", lambda x: tf.sort(x, direction="DESCENDING"), [_distinct(2, 5)],
             id="sort-descending"),
    GradCase("Tile", lambda x: tf.repeat(x, [2, 0, 1], axis=1), [_floats(2, 3)],
             id="repeat"),
    GradCase("MatMul", lambda a, b: tf.tensordot(a, b, [[0, 2], [1, 0]]),
             [_floats(2, 3, 4), _floats(4, 2, 5)], id="tensordot"),
    GradCase("GatherV2", lambda p: tf.batch_gather(p, [[2, 0], [1, 1]]), [_floats(2, 3, 2)],
             id="batch_gather"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)


@pytest.mark.parametrize("case", COMPOSITE_CASES, ids=case_ids(COMPOSITE_CASES))
def test_composite_gradient(case):
    check_case(case)

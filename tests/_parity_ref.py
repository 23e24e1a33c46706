"""Parity cases (see test_parity.py) of the reference-variable ops that are not stateful: TF 1's
``FusedBatchNorm`` (V1), which runs V3's kernel (its one dtype T is float32 in TF)."""

import sessionlib as tf


def _fused_bn_v1(feeds, dtype):
    x = feeds((2, 3, 4, 5), dtype)
    scale, offset = feeds((5,), dtype, positive=True), feeds((5,), dtype)
    mean, variance = feeds((5,), dtype), feeds((5,), dtype, positive=True)
    outputs = []
    for is_training in (True, False):
        outputs += tf.get_default_graph().create_op(
            "FusedBatchNorm", [x, scale, offset, mean, variance],
            {"is_training": is_training, "epsilon": 1e-3}).outputs
    return outputs


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("FusedBatchNorm", (tf.float32,), _fused_bn_v1)

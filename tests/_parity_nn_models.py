"""Parity cases of the nn model kernels (issue 11), added to ``tests/test_parity.py``'s
``CASES`` by `add_cases`: each ``build(feeds, dtype)`` makes read-only fed inputs with ``feeds(shape, dtype,
**value_kwargs)`` and returns the fetches that both executors must agree on.
"""

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)
NUMERIC = FLOATS + (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)


def _create(op_type, inputs, attrs=None):
    return tf.get_default_graph().create_op(op_type, list(inputs), attrs).outputs


def _unary(op_type, attrs=None, **value_kwargs):
    def build(feeds, dtype):
        # A large input too, so that the fast kernels' threaded paths run.
        return (_create(op_type, [feeds((3, 5), dtype, **value_kwargs)], attrs)
                + _create(op_type, [feeds((300, 400), dtype, **value_kwargs)], attrs))

    return build


def _grad(op_type, attrs=None, **value_kwargs):
    def build(feeds, dtype):
        small = [feeds((3, 5), dtype, **value_kwargs), feeds((3, 5), dtype, **value_kwargs)]
        large = [feeds((300, 400), dtype, **value_kwargs),
                 feeds((300, 400), dtype, **value_kwargs)]
        return _create(op_type, small, attrs) + _create(op_type, large, attrs)

    return build


def _xent(feeds, dtype):
    outputs = []
    for shape in ((4, 7), (300, 10)):
        labels = feeds(shape, dtype, low=0, high=1)
        outputs += _create("SoftmaxCrossEntropyWithLogits", [feeds(shape, dtype), labels])
    return outputs


def _sparse_xent(feeds, dtype):
    outputs = []
    for rows, classes, index_dtype in ((4, 7, tf.int32), (300, 10, tf.int64)):
        labels = feeds((rows,), index_dtype, low=0, high=classes)
        outputs += _create("SparseSoftmaxCrossEntropyWithLogits",
                           [feeds((rows, classes), dtype), labels])
    return outputs


def _scale_dtype(dtype):
    return tf.float64 if dtype is tf.float64 else tf.float32


def _fused_bn(feeds, dtype):
    u = _scale_dtype(dtype)
    x = feeds((2, 3, 4, 5), dtype)
    scale, offset = feeds((5,), u, positive=True), feeds((5,), u)
    mean, variance = feeds((5,), u), feeds((5,), u, positive=True)
    train = _create("FusedBatchNormV3", [x, scale, offset, mean, variance],
                    {"is_training": True, "epsilon": 1e-3, "exponential_avg_factor": 0.5})
    infer = _create("FusedBatchNormV3", [x, scale, offset, mean, variance],
                    {"is_training": False, "epsilon": 1e-3, "data_format": "NHWC"})
    return train + infer


def _fused_bn_grad(feeds, dtype):
    u = _scale_dtype(dtype)
    outputs = []
    for training in (True, False):
        inputs = [feeds((2, 3, 4, 5), dtype), feeds((2, 3, 4, 5), dtype),
                  feeds((3,), u, positive=True), feeds((3,), u), feeds((3,), u, positive=True),
                  feeds((0,), u)]
        outputs += _create("FusedBatchNormGradV3", inputs,
                           {"is_training": training, "data_format": "NCHW", "epsilon": 1e-3})
    return outputs


_LRN_ATTRS = {"depth_radius": 2, "bias": 1.5, "alpha": 0.2, "beta": 0.75}


def _lrn(feeds, dtype):
    return _create("LRN", [feeds((2, 3, 4, 9), dtype, low=-2, high=2)], _LRN_ATTRS)


def _lrn_grad(feeds, dtype):
    x = feeds((2, 3, 4, 9), dtype, low=-2, high=2)
    y = _create("LRN", [x], _LRN_ATTRS)[0]
    return _create("LRNGrad", [feeds((2, 3, 4, 9), dtype), x, y], _LRN_ATTRS)


def _top_k(feeds, dtype):
    values = feeds((4, 9), dtype, low=-3, high=3)  # small range: ties
    k = tf.constant(4)
    return _create("TopKV2", [values, k]) + _create("TopKV2", [feeds((9,), dtype), k])


def _in_top_k(feeds, dtype):
    predictions = feeds((6, 5), dtype, low=-2, high=2)
    targets = feeds((6,), tf.int32, low=-1, high=6)
    return [_create("InTopKV2", [predictions, targets, tf.constant(k)])[0] for k in (1, 3)]


def _matrix_op(op_type):
    def build(feeds, dtype):
        return _create(op_type, [feeds((3, 6), dtype)]) + _create(op_type,
                                                                 [feeds((200, 10), dtype)])

    return build


CASES = {
    "Elu": (FLOATS, _unary("Elu")),
    "Selu": (FLOATS, _unary("Selu")),
    "Softplus": (FLOATS, _unary("Softplus", low=-30, high=30)),
    "Softsign": (FLOATS, _unary("Softsign")),
    "Relu6": (NUMERIC, _unary("Relu6", low=-3, high=9)),
    "LeakyRelu": (FLOATS, _unary("LeakyRelu", {"alpha": 0.3})),
    "EluGrad": (FLOATS, _grad("EluGrad")),
    "SeluGrad": (FLOATS, _grad("SeluGrad")),
    "SoftplusGrad": (FLOATS, _grad("SoftplusGrad", low=-30, high=30)),
    "SoftsignGrad": (FLOATS, _grad("SoftsignGrad")),
    "Relu6Grad": (NUMERIC, _grad("Relu6Grad", low=-3, high=9)),
    "LeakyReluGrad": (FLOATS, _grad("LeakyReluGrad", {"alpha": 0.3})),
    "SoftmaxCrossEntropyWithLogits": (FLOATS, _xent),
    "SparseSoftmaxCrossEntropyWithLogits": (FLOATS, _sparse_xent),
    "LogSoftmax": (FLOATS, _matrix_op("LogSoftmax")),
    "L2Loss": (FLOATS, _matrix_op("L2Loss")),
    "FusedBatchNormV3": (FLOATS, _fused_bn),
    "FusedBatchNormGradV3": (FLOATS, _fused_bn_grad),
    "LRN": (FLOATS, _lrn),
    "LRNGrad": (FLOATS, _lrn_grad),
    "TopKV2": (NUMERIC, _top_k),
    "InTopKV2": (FLOATS, _in_top_k),
}


def add_cases(case):
    """Adds this family's cases through ``test_parity.case``."""
    for op_type, (dtypes_, build) in CASES.items():
        case(op_type, dtypes_, build)

"""Numeric gradient checks of the 3-D convolution ops (float64, small shapes): SAME and
VALID, strides and dilations; the backprop ops too, since ``conv3d_transpose``
(Conv3DBackpropInputV2) is trained and second derivatives go through them."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

_RNG = np.random.RandomState(29)
_X, _W = (2, 4, 3, 5, 2), (2, 2, 3, 2, 2)


def _r(*shape):
    return _RNG.uniform(-1.0, 1.0, size=shape)


def _out(padding, strides, dilations):
    dims = []
    for n, k, s, d in zip(_X[1:4], _W[:3], strides, dilations):
        eff = (k - 1) * d + 1
        dims.append(-(-n // s) if padding == "SAME" else (n - eff) // s + 1)
    return (_X[0], *dims, _W[4])


_CONFIGS = [("SAME", (1, 1, 1), (1, 1, 1), "same"), ("VALID", (1, 1, 1), (1, 1, 1), "valid"),
            ("SAME", (2, 1, 2), (1, 1, 1), "same-stride2"),
            ("VALID", (2, 2, 1), (1, 1, 1), "valid-stride2"),
            ("VALID", (1, 1, 1), (2, 1, 2), "valid-dilation2")]


def _attrs(strides, dilations):
    return {"strides": [1, *strides, 1], "dilations": [1, *dilations, 1]}


GRADIENT_CASES = (
    [GradCase("Conv3D", lambda x, w, p=p, s=s, d=d: tf.nn.conv3d(x, w, padding=p,
                                                                 **_attrs(s, d)),
              [_r(*_X), _r(*_W)], id=f"Conv3D-{name}") for p, s, d, name in _CONFIGS]
    + [GradCase("Conv3DBackpropInputV2",
                lambda w, dy, p=p, s=s, d=d: tf.nn.conv3d_backprop_input_v2(
                    list(_X), w, dy, padding=p, **_attrs(s, d)),
                [_r(*_W), _r(*_out(p, s, d))], id=f"Conv3DBackpropInputV2-{name}")
       for p, s, d, name in _CONFIGS[1:4]]
    + [GradCase("Conv3DBackpropFilterV2",
                lambda x, dy, p=p, s=s, d=d: tf.nn.conv3d_backprop_filter_v2(
                    x, list(_W), dy, padding=p, **_attrs(s, d)),
                [_r(*_X), _r(*_out(p, s, d))], id=f"Conv3DBackpropFilterV2-{name}")
       for p, s, d, name in _CONFIGS[1:4]]
    + [GradCase("Conv3DBackpropInputV2",
                lambda v, w: tf.nn.conv3d_transpose(v, w, [1, 4, 3, 5, 2], [1, 2, 2, 2, 1]),
                [_r(1, 2, 2, 3, 3), _r(2, 2, 2, 2, 3)], id="conv3d_transpose-same-stride2"),
       GradCase("Conv3D",
                lambda x, w: tf.nn.conv3d(x, w, [1, 1, 2, 1, 1], "SAME", data_format="NCDHW"),
                [_r(1, 2, 3, 4, 3), _r(2, 2, 2, 2, 2)], id="Conv3D-NCDHW")]
)


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)

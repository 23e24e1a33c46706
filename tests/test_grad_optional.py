"""Numeric gradient checks of the Optional ops (issue 16): wrapping and unwrapping
mirror each other, as in TF's cond gradients. One case leaves a component unused (its gradient
is zeros), one reads an Optional twice (the two gradients add with ``AddN`` of Optionals)."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.ops import optional_ops as oo

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(16)


def _floats(*shape):
    return RNG.uniform(-2, 2, size=shape)


def _unwrap(optional, *tensors):
    return oo.optional_get_value(optional, [t.dtype for t in tensors], [t.shape for t in tensors])


def _both(x, y):
    got = _unwrap(oo.optional_from_value([x, y]), x, y)
    return [got[0] ** 2, got[1] * 3.0]


def _one_used(x, y):
    return _unwrap(oo.optional_from_value([x, y]), x, y)[1] ** 2


def _read_twice(x):
    optional = oo.optional_from_value([x])
    return [_unwrap(optional, x)[0] * 2.0, tf.sin(_unwrap(optional, x)[0])]


GRADIENT_CASES = [
    GradCase("OptionalFromValue", _both, [_floats(3, 2), _floats(2)]),
    GradCase("OptionalGetValue", _both, [_floats(2, 2), _floats(3)]),
    GradCase("OptionalGetValue", _one_used, [_floats(2), _floats(3)],
             id="OptionalGetValue-unused-component"),
    GradCase("OptionalFromValue", _read_twice, [_floats(4)],
             id="OptionalFromValue-two-reads-add"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)

"""Numeric checks of symbolic gradients, shared by the ``test_grad*.py`` modules.

A module ``tests/test_grad_<family>.py`` declares its cases in a module-level list
``GRADIENT_CASES`` of `GradCase`s and runs them with `check_case` (usually through
``pytest.mark.parametrize``). ``tests/test_gradient_coverage.py`` imports every such module and
fails when an op type with a gradient function has no case: the gradient twin of the kernel
parity test.

The check: with a fixed random weight ``w_k`` per floating output ``y_k``, the scalar
``L = sum_k sum(w_k * y_k)`` is differentiated symbolically with ``tf.gradients`` and
numerically with central differences in float64, input element by input element. One random
projection tests every entry of the Jacobian with probability one, and keeps the cost at two
runs per input element.
"""

import dataclasses

import numpy as np

import sessionlib as tf


@dataclasses.dataclass
class GradCase:
    """One numeric gradient check.

    Attributes:
      op_type: the op type whose gradient this case proves; it must appear in the forward
        graph between the inputs and the outputs.
      build: ``build(*input_tensors) -> Tensor or list of Tensors``, the forward graph.
      inputs: the input values (float64 arrays are differentiated; other dtypes are fed but
        not differentiated).
      wrt: indexes of the inputs to differentiate; default: every floating input.
      delta: the central-difference step.
      tolerance: the allowed absolute/relative error.
      id: a test id; default: the op type.
    """

    op_type: str
    build: object
    inputs: list
    wrt: list = None
    delta: float = 1e-6
    tolerance: float = 1e-6
    id: str = None

    def __post_init__(self):
        self.inputs = [np.asarray(value) for value in self.inputs]
        if self.id is None:
            self.id = self.op_type


def distinct_values(rng, *shape):
    """Float64 values of `shape` for max pooling, a shuffled grid with spacing 0.01 (`rng`
    shuffles it): max pooling is differentiable where each window's maximum is unique and at
    least the central-difference step (and the 1e-5 tie tolerance of MaxPool3DGrad) away from
    the runner-up."""
    values = np.arange(int(np.prod(shape)), dtype=np.float64) * 0.01
    rng.shuffle(values)
    return values.reshape(shape)


def case_ids(cases):
    """Test ids for `pytest.mark.parametrize`."""
    return [case.id for case in cases]


def _ops_between(inputs, outputs):
    reached = set()
    stack = [tensor.op for tensor in outputs]
    input_ops = {tensor.op for tensor in inputs}
    while stack:
        op = stack.pop()
        if op in reached:
            continue
        reached.add(op)
        if op not in input_ops:
            stack.extend(tensor.op for tensor in op.inputs)
    return reached


def check_case(case):
    """Checks `case`'s symbolic gradient against central differences.

    Raises:
      AssertionError: when they differ, or the op type is not in the forward graph.
    """
    graph = tf.Graph()
    with graph.as_default():
        placeholders = [tf.placeholder(tf.as_dtype(value.dtype), value.shape, name=f"in{i}")
                        for i, value in enumerate(case.inputs)]
        outputs = case.build(*placeholders)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        op_types = {op.type for op in _ops_between(placeholders, outputs)}
        assert case.op_type in op_types, (
            f"case {case.id}: op {case.op_type} is not in its forward graph ({op_types})")
        rng = np.random.RandomState(1234)
        floating = [y for y in outputs if y.dtype.is_floating]
        assert floating, f"case {case.id}: no floating output"
        weights = []
        loss_terms = []
        unknown = [y for y in floating if not y.shape.is_fully_defined()]
        if unknown:
            # Outputs whose static shape is hidden (to test dynamic-shape gradients) get
            # their shape from a forward run.
            with tf.Session(graph=graph) as sess:
                ran = sess.run(unknown, dict(zip(placeholders, case.inputs)))
            run_shapes = {y: list(np.shape(v)) for y, v in zip(unknown, ran)}
        for y in floating:
            shape = y.shape.as_list() if y.shape.is_fully_defined() else run_shapes[y]
            weight = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1, 1], size=shape)
            weights.append(weight)
            loss_terms.append(tf.reduce_sum(y * tf.constant(weight, dtype=y.dtype)))
        loss = tf.add_n(loss_terms) if len(loss_terms) > 1 else loss_terms[0]
        wrt = case.wrt if case.wrt is not None else [
            i for i, value in enumerate(case.inputs) if value.dtype.kind == "f"]
        grads = tf.gradients(loss, [placeholders[i] for i in wrt])
        for i, grad in zip(wrt, grads):
            assert grad is not None, f"case {case.id}: no gradient for input {i}"
        dense_grads = [tf.convert_to_tensor(g) for g in grads]
    with tf.Session(graph=graph) as sess:
        feeds = dict(zip(placeholders, case.inputs))
        symbolic = sess.run(dense_grads, feeds)
        for position, i in enumerate(wrt):
            value = case.inputs[i].astype(np.float64)
            numeric = np.zeros_like(value)
            flat = value.reshape(-1)
            numeric_flat = numeric.reshape(-1)
            for k in range(flat.size):
                saved = flat[k]
                flat[k] = saved + case.delta
                up = sess.run(loss, {**feeds, placeholders[i]: value})
                flat[k] = saved - case.delta
                down = sess.run(loss, {**feeds, placeholders[i]: value})
                flat[k] = saved
                numeric_flat[k] = (up - down) / (2 * case.delta)
            np.testing.assert_allclose(
                symbolic[position], numeric, rtol=case.tolerance, atol=case.tolerance,
                err_msg=f"case {case.id}: gradient of input {i}")

"""The small ops that ``tf.losses`` and ``tf.metrics`` are built from: ``div_no_nan`` and
``confusion_matrix``.

``DivNoNan`` is TF's op (``x / y``, but 0 wherever ``y == 0``), one registration with TF's
gradient. Metrics divide running totals by running counts that start at 0, and the losses
divide by a number of nonzero weights that may be 0; a composite ``where(y == 0, 0, x / y)``
would give the same values but a NaN gradient through the untaken ``x / 0`` branch, which
the op does not. Its kernel is in ``runtime/kernels/metrics_kernels.py``.

``confusion_matrix`` is a composite: the pair ``(label, prediction)`` is flattened to the
index ``label * num_classes + prediction`` and the weights are summed per index by
``UnsortedSegmentSum``, which also drops out-of-range pairs (TF asserts instead; sessionlib
has no assert ops yet).
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.ops import _grad_util, array_ops, math_ops

__all__ = ["div_no_nan", "confusion_matrix"]


# ---- DivNoNan -------------------------------------------------------------------------------

def _div_no_nan_grad(op, grad):
    # TF's gradient: d/dx = 1/y and d/dy = -x/y^2, each 0 where y == 0, written with DivNoNan
    # itself so that the gradient is 0 there too and gradients of gradients work.
    x, y = op.inputs
    grad_x = div_no_nan(grad, y)
    grad_y = math_ops.multiply(grad, div_no_nan(div_no_nan(math_ops.negative(x), y), y))
    return [_grad_util.reduce_to_input(grad_x, x, y), _grad_util.reduce_to_input(grad_y, y, x)]


registry.register_op("DivNoNan", infer=math_ops._binary_infer("DivNoNan", dtypes.FLOAT_DTYPES),
                     kernel="DivNoNan", num_inputs=2,
                     doc="Elementwise x / y, and 0 where y is 0.", gradient=_div_no_nan_grad)


def div_no_nan(x, y, name=None):
    """``x / y`` elementwise with numpy broadcasting, and 0 wherever ``y == 0`` (op
    ``DivNoNan``), as ``tf.div_no_nan`` / ``tf.math.divide_no_nan``.

    Args:
      x, y: floating Tensors or values of one dtype.
      name: the op name (default 'div_no_nan').

    Returns:
      A Tensor of the inputs' dtype and broadcast shape.

    Raises:
      TypeError: if the dtypes differ or are not floating.
      ValueError: if the static shapes cannot broadcast.
    """
    return math_ops._binary("DivNoNan", x, y, name, default_name="div_no_nan")


# ---- confusion_matrix -----------------------------------------------------------------------

def confusion_matrix(labels, predictions, num_classes=None, dtype=dtypes.int32, name=None,
                     weights=None):
    """The confusion matrix of `labels` (rows) against `predictions` (columns), as
    ``tf.confusion_matrix``.

    Args:
      labels: a 1-D integer Tensor of true classes.
      predictions: a 1-D integer Tensor of predicted classes, of `labels`' shape.
      num_classes: the number of classes (an int or scalar int Tensor); None: one more than
        the largest label or prediction.
      dtype: the result's dtype.
      name: the name scope (default 'confusion_matrix').
      weights: optional per-example weights of `labels`' shape (default 1 each).

    Returns:
      A ``[num_classes, num_classes]`` Tensor of `dtype`: entry ``[i, j]`` is the summed
      weight of the examples with label ``i`` and prediction ``j``. Pairs outside
      ``[0, num_classes)`` are not counted.

    Raises:
      ValueError: if the static shapes of `labels`, `predictions` and `weights` differ.
    """
    dtype = dtypes.as_dtype(dtype)
    graph = math_ops._find_graph((labels, predictions, weights, num_classes))
    with graph.as_default(), graph.name_scope(name or "confusion_matrix"):
        labels = math_ops.cast(graph_lib.convert_to_tensor(labels, name="labels"),
                               dtypes.int64)
        predictions = math_ops.cast(
            graph_lib.convert_to_tensor(predictions, name="predictions"), dtypes.int64)
        if not labels.shape.is_compatible_with(predictions.shape):
            raise ValueError(f"Shapes {labels.shape} and {predictions.shape} are incompatible")
        if num_classes is None:
            num_classes = math_ops.add(
                math_ops.maximum(math_ops.reduce_max(predictions),
                                 math_ops.reduce_max(labels)),
                array_ops.constant(1, dtype=dtypes.int64))
        elif isinstance(num_classes, Tensor):
            num_classes = math_ops.cast(num_classes, dtypes.int64)
        else:
            num_classes = array_ops.constant(int(num_classes), dtype=dtypes.int64)
        if weights is None:
            values = array_ops.ones_like(predictions, dtype=dtype)
        else:
            values = math_ops.cast(graph_lib.convert_to_tensor(weights, name="weights"),
                                   dtype)
            if not values.shape.is_compatible_with(predictions.shape):
                raise ValueError(f"Shapes {values.shape} and {predictions.shape} are "
                                 "incompatible")
        # An out-of-range class would land in another cell of the flat index; mask it to -1,
        # which the segment sum drops.
        in_range = math_ops.logical_and(
            math_ops.logical_and(math_ops.greater_equal(labels, 0),
                                 math_ops.less(labels, num_classes)),
            math_ops.logical_and(math_ops.greater_equal(predictions, 0),
                                 math_ops.less(predictions, num_classes)))
        flat = math_ops.add(math_ops.multiply(labels, num_classes), predictions)
        flat = array_ops.where(in_range, flat,
                               math_ops.negative(array_ops.ones_like(flat)))
        counts = math_ops.unsorted_segment_sum(
            array_ops.reshape(values, [-1]), array_ops.reshape(flat, [-1]),
            math_ops.multiply(num_classes, num_classes))
        return array_ops.reshape(counts, array_ops.stack([num_classes, num_classes]))

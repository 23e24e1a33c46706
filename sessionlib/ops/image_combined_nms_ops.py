"""``CombinedNonMaxSuppression``: TF's ``tf.image.combined_non_max_suppression``, greedy
non-max suppression per batch entry and class, merged across classes. Kernel:
``runtime/kernels/image_combined_nms_kernels.py``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, math_ops

__all__ = ["combined_non_max_suppression"]


def _combined_nms_infer(inputs, attrs):
    boxes, scores, per_class, total, iou_threshold, score_threshold = inputs
    op_type = "CombinedNonMaxSuppression"
    _infer.check_dtype(op_type, boxes, (dtypes.float32,), "boxes")
    _infer.check_dtype(op_type, scores, (dtypes.float32,), "scores")
    for tensor, arg in ((per_class, "max_output_size_per_class"), (total, "max_total_size")):
        _infer.check_dtype(op_type, tensor, (dtypes.int32,), arg)
    for tensor, arg in ((iou_threshold, "iou_threshold"), (score_threshold, "score_threshold")):
        _infer.check_dtype(op_type, tensor, (dtypes.float32,), arg)
    if boxes.shape.rank not in (None, 4):
        raise ValueError(f"Shape must be rank 4 but is rank {boxes.shape.rank} for boxes")
    if scores.shape.rank not in (None, 3):
        raise ValueError(f"Shape must be rank 3 but is rank {scores.shape.rank} for scores")
    attrs["pad_per_class"] = bool(attrs.get("pad_per_class", False))
    attrs["clip_boxes"] = bool(attrs.get("clip_boxes", True))
    batch = boxes.shape[0] if boxes.shape.rank else None
    size = None
    known_total = _infer.folded_value(total)
    if known_total is not None and not attrs["pad_per_class"]:
        size = int(known_total)
    return [(dtypes.float32, TensorShape([batch, size, 4])),
            (dtypes.float32, TensorShape([batch, size])),
            (dtypes.float32, TensorShape([batch, size])),
            (dtypes.int32, TensorShape([batch]))]


registry.register_op("CombinedNonMaxSuppression", infer=_combined_nms_infer, num_inputs=6,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Per-class greedy non-max suppression, merged by score.")


def combined_non_max_suppression(boxes, scores, max_output_size_per_class, max_total_size,
                                 iou_threshold=0.5, score_threshold=float("-inf"),
                                 pad_per_class=False, clip_boxes=True, name=None):
    """Greedy non-max suppression for each batch entry and class, then the best
    `max_total_size` detections over all classes (``tf.image.combined_non_max_suppression``).

    Args:
      boxes: float32 ``[batch, num_boxes, q, 4]``; q is 1 (boxes shared by the classes) or
        the number of classes.
      scores: float32 ``[batch, num_boxes, num_classes]``.
      max_output_size_per_class: the most boxes one class keeps.
      max_total_size: the most detections per batch entry.
      iou_threshold: overlaps above it suppress.
      score_threshold: only scores above it are candidates.
      pad_per_class: pad to ``min(max_total_size, max_output_size_per_class * classes)``
        rather than `max_total_size`.
      clip_boxes: clip the output boxes to [0, 1].
      name: the op name.

    Returns:
      ``(nmsed_boxes, nmsed_scores, nmsed_classes, valid_detections)``.

    Raises:
      TypeError, ValueError: for bad dtypes or ranks.
    """
    graph = math_ops._find_graph((boxes, scores))
    with graph.as_default(), graph.name_scope(name or "combined_non_max_suppression") as scope:
        inputs = [graph_lib.convert_to_tensor(boxes, dtype=dtypes.float32, name="boxes"),
                  graph_lib.convert_to_tensor(scores, dtype=dtypes.float32, name="scores"),
                  graph_lib.convert_to_tensor(max_output_size_per_class, dtype=dtypes.int32),
                  graph_lib.convert_to_tensor(max_total_size, dtype=dtypes.int32),
                  graph_lib.convert_to_tensor(iou_threshold, dtype=dtypes.float32),
                  graph_lib.convert_to_tensor(score_threshold, dtype=dtypes.float32)]
        op = graph.create_op("CombinedNonMaxSuppression", inputs,
                             {"pad_per_class": pad_per_class, "clip_boxes": clip_boxes},
                             name=scope)
        return tuple(op.outputs)

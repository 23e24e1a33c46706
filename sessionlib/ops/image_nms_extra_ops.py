"""``CombinedNonMaxSuppression`` (TF's ``tf.image.combined_non_max_suppression``: greedy
non-max suppression per batch entry and class, merged across classes) and
``NonMaxSuppressionWithOverlaps`` (``tf.image.non_max_suppression_overlaps``: greedy selection
with a given overlap matrix). Kernels: ``runtime/kernels/image_nms_extra_kernels.py``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, math_ops

__all__ = ["combined_non_max_suppression", "non_max_suppression_overlaps",
           "non_max_suppression_padded", "extract_glimpse"]


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


def _nms_with_overlaps_infer(inputs, attrs):
    overlaps, scores, max_output_size, overlap_threshold, score_threshold = inputs
    op_type = "NonMaxSuppressionWithOverlaps"
    for tensor, arg, rank in ((overlaps, "overlaps", 2), (scores, "scores", 1),
                              (max_output_size, "max_output_size", 0),
                              (overlap_threshold, "overlap_threshold", 0),
                              (score_threshold, "score_threshold", 0)):
        _infer.check_dtype(op_type, tensor, (dtypes.int32,) if arg == "max_output_size"
                           else (dtypes.float32,), arg)
        if tensor.shape.rank not in (None, rank):
            raise ValueError(f"Shape must be rank {rank} but is rank {tensor.shape.rank} for "
                             f"{arg} of '{op_type}'")
    return [(dtypes.int32, TensorShape([None]))]


registry.register_op("NonMaxSuppressionWithOverlaps", infer=_nms_with_overlaps_infer,
                     num_inputs=5, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Greedy non-max suppression by a given overlap matrix.")


def non_max_suppression_overlaps(overlaps, scores, max_output_size, overlap_threshold=0.5,
                                 score_threshold=float("-inf"), name=None):
    """The indices that greedy non-max suppression keeps when box overlaps are given as a
    matrix (``tf.image.non_max_suppression_overlaps``).

    Args:
      overlaps: float32 ``[n, n]``, the overlap of each pair of boxes.
      scores: float32 ``[n]``.
      max_output_size: the most indices to keep.
      overlap_threshold: an overlap above it with a kept box suppresses.
      score_threshold: only scores above it are candidates.
      name: the op name.

    Returns:
      The int32 indices kept, by decreasing score.

    Raises:
      TypeError, ValueError: for bad dtypes or ranks.
    """
    graph = math_ops._find_graph((overlaps, scores))
    with graph.as_default(), graph.name_scope(name or "non_max_suppression_overlaps") as scope:
        inputs = [graph_lib.convert_to_tensor(overlaps, dtype=dtypes.float32, name="overlaps"),
                  graph_lib.convert_to_tensor(scores, dtype=dtypes.float32, name="scores"),
                  graph_lib.convert_to_tensor(max_output_size, dtype=dtypes.int32),
                  graph_lib.convert_to_tensor(overlap_threshold, dtype=dtypes.float32),
                  graph_lib.convert_to_tensor(score_threshold, dtype=dtypes.float32)]
        return graph.create_op("NonMaxSuppressionWithOverlaps", inputs, {},
                               name=scope).outputs[0]


def non_max_suppression_padded(boxes, scores, max_output_size, iou_threshold=0.5,
                               score_threshold=float("-inf"), pad_to_max_output_size=False,
                               name=None, sorted_input=False, canonicalized_coordinates=False,
                               tile_size=512):
    """Greedy non-max suppression with a fixed-size output option
    (``tf.image.non_max_suppression_padded``, op ``NonMaxSuppressionV4``), for one set of
    boxes.

    Args:
      boxes: float ``[num_boxes, 4]``.
      scores: float ``[num_boxes]``.
      max_output_size: the most indices to keep.
      iou_threshold: an IoU above it with a kept box suppresses.
      score_threshold: only scores above it are candidates.
      pad_to_max_output_size: pad the indices with 0 to `max_output_size` entries.
      name: the op name.
      sorted_input, canonicalized_coordinates, tile_size: TF's hints for its tiled batched
        algorithm, which selects the same boxes; accepted and unused.

    Returns:
      ``(selected_indices, num_valid)``: int32 indices by decreasing score, and their count.

    Raises:
      ValueError: for batched (rank > 2) boxes, which sessionlib does not support here.
    """
    del sorted_input, canonicalized_coordinates, tile_size
    graph = math_ops._find_graph((boxes, scores))
    with graph.as_default(), graph.name_scope(name or "non_max_suppression_padded") as scope:
        boxes = graph_lib.convert_to_tensor(boxes, name="boxes")
        if boxes.shape.rank is not None and boxes.shape.rank > 2:
            raise ValueError("non_max_suppression_padded: batched boxes (rank > 2) are not "
                             "supported; use combined_non_max_suppression")
        inputs = [boxes, graph_lib.convert_to_tensor(scores, dtype=boxes.dtype, name="scores"),
                  graph_lib.convert_to_tensor(max_output_size, dtype=dtypes.int32),
                  graph_lib.convert_to_tensor(iou_threshold, dtype=boxes.dtype),
                  graph_lib.convert_to_tensor(score_threshold, dtype=boxes.dtype)]
        selected, num_valid = graph.create_op(
            "NonMaxSuppressionV4", inputs, {"pad_to_max_output_size": pad_to_max_output_size},
            name=scope).outputs
        return selected, num_valid


# ---- ExtractGlimpse ---------------------------------------------------------------------------

def _extract_glimpse_infer(inputs, attrs):
    images, size, offsets = inputs
    op_type = "ExtractGlimpse"
    _infer.check_dtype(op_type, images, (dtypes.float32,), "input")
    _infer.check_dtype(op_type, size, (dtypes.int32,), "size")
    _infer.check_dtype(op_type, offsets, (dtypes.float32,), "offsets")
    if images.shape.rank not in (None, 4):
        raise ValueError(f"Shape must be rank 4 but is rank {images.shape.rank} for input of "
                         f"'{op_type}'")
    for name, default in (("centered", True), ("normalized", True), ("uniform_noise", True)):
        attrs[name] = bool(attrs.get(name, default))
    attrs["noise"] = str(attrs.get("noise", "uniform"))
    if attrs["noise"] not in ("uniform", "gaussian", "zero", ""):
        raise ValueError(f"{op_type}: noise must be 'uniform', 'gaussian' or 'zero', got "
                         f"{attrs['noise']!r}")
    known = _infer.folded_value(size)
    height, width = (None, None) if known is None else (int(known[0]), int(known[1]))
    batch = images.shape[0] if images.shape.rank else None
    channels = images.shape[3] if images.shape.rank else None
    return [(dtypes.float32, TensorShape([batch, height, width, channels]))]


registry.register_op("ExtractGlimpse", infer=_extract_glimpse_infer, num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A window of each image at its offset; noise outside the image.")


def extract_glimpse(input, size, offsets, centered=True, normalized=True,  # noqa: A002
                    uniform_noise=True, name=None):
    """A `size` window of each image at its offset (``tf.image.extract_glimpse``, op
    ``ExtractGlimpse``).

    Args:
      input: float32 ``[batch, height, width, channels]``.
      size: the window ``[height, width]`` (int32).
      offsets: float32 ``[batch, 2]``: each window's (y, x) centre.
      centered: offsets are relative to the image centre (else to its top-left corner).
      normalized: offsets are fractions of the image size (in [-1, 1] when centered).
      uniform_noise: fill pixels outside the image with uniform noise between the channel's
        min and max. (As TF's op, whose `noise` attr stays "uniform", the fill is uniform noise
        either way.)
      name: the op name.

    Returns:
      float32 ``[batch, size[0], size[1], channels]``.
    """
    graph = math_ops._find_graph((input, offsets))
    with graph.as_default(), graph.name_scope(name or "extract_glimpse") as scope:
        inputs = [graph_lib.convert_to_tensor(input, dtype=dtypes.float32, name="input"),
                  graph_lib.convert_to_tensor(size, dtype=dtypes.int32, name="size"),
                  graph_lib.convert_to_tensor(offsets, dtype=dtypes.float32, name="offsets")]
        return graph.create_op("ExtractGlimpse", inputs,
                               {"centered": centered, "normalized": normalized,
                                "uniform_noise": uniform_noise, "noise": "uniform"},
                               name=scope).outputs[0]

"""Kernels of CombinedNonMaxSuppression and NonMaxSuppressionWithOverlaps
(``sessionlib/ops/image_nms_extra_ops.py``).

Design. CombinedNonMaxSuppression: per batch entry, each class runs the same greedy hard
suppression as NonMaxSuppressionV4 (``image_box_kernels._greedy_selection``: candidates above
the score threshold by decreasing score, dropped when their IoU with a selected box exceeds
the threshold), capped at `max_output_size_per_class`; the selections of all classes are then
merged by decreasing score and the first ``max_total_size`` (or, with `pad_per_class`,
``min(max_total_size, per-class cap * classes)``) written out, boxes clipped to [0, 1] unless
`clip_boxes` is off, and the rest zero-padded. NonMaxSuppressionWithOverlaps is the same
greedy loop with the IoU replaced by a given overlap matrix.
"""

import heapq

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument
from sessionlib.runtime.kernels.image_box_kernels import _greedy_selection, _scalar_input


def _combined_nms_kernel(ctx, inputs, attrs):
    boxes, scores, per_class, total, iou_threshold, score_threshold = inputs
    if boxes.ndim != 4 or boxes.shape[3] != 4:
        raise invalid_argument(f"boxes must be 4-D [batch, num_boxes, q, 4]: "
                               f"{list(boxes.shape)}")
    if scores.ndim != 3 or scores.shape[:2] != boxes.shape[:2]:
        raise invalid_argument(f"scores must be 3-D [batch, num_boxes, num_classes] matching "
                               f"boxes: {list(scores.shape)}")
    batch, _, q, _ = boxes.shape
    num_classes = scores.shape[2]
    if q not in (1, num_classes):
        raise invalid_argument(f"third dimension of boxes must be either 1 or {num_classes}")
    per_class, total = int(per_class), int(total)
    if per_class <= 0 or total <= 0:
        raise invalid_argument("max_size_per_class and max_total_size must be > 0")
    iou_threshold = _scalar_input(iou_threshold, "iou_threshold")
    score_threshold = _scalar_input(score_threshold, "score_threshold")
    if not 0 <= iou_threshold <= 1:
        raise invalid_argument("iou_threshold must be in [0, 1]")
    size = min(total, per_class * num_classes) if attrs.get("pad_per_class") else total
    out_boxes = np.zeros((batch, size, 4), np.float32)
    out_scores = np.zeros((batch, size), np.float32)
    out_classes = np.zeros((batch, size), np.float32)
    valid = np.zeros(batch, np.int32)
    for entry in range(batch):
        found = []   # (score, class, box index)
        for label in range(num_classes):
            class_boxes = boxes[entry, :, label if q > 1 else 0].astype(np.float32)
            class_scores = scores[entry, :, label].astype(np.float32)
            picked, picked_scores = _greedy_selection(class_boxes, class_scores, per_class,
                                                      iou_threshold, score_threshold, 0.0)
            found.extend((score, label, index) for index, score in zip(picked, picked_scores))
        found.sort(key=lambda item: -item[0])   # stable: classes in order among equal scores
        found = found[:size]
        valid[entry] = len(found)
        for slot, (score, label, index) in enumerate(found):
            box = boxes[entry, index, label if q > 1 else 0].astype(np.float32)
            out_boxes[entry, slot] = np.clip(box, 0, 1) if attrs.get("clip_boxes", True) else box
            out_scores[entry, slot] = score
            out_classes[entry, slot] = label
    return out_boxes, out_scores, out_classes, valid


def _nms_with_overlaps_kernel(ctx, inputs, attrs):
    overlaps, scores, max_output_size, overlap_threshold, score_threshold = inputs
    if overlaps.ndim != 2 or overlaps.shape[0] != overlaps.shape[1]:
        raise invalid_argument(f"overlaps must be square: {list(overlaps.shape)}")
    if scores.ndim != 1 or scores.shape[0] != overlaps.shape[0]:
        raise invalid_argument(f"scores has incompatible shape {list(scores.shape)}")
    limit = int(max_output_size)
    if limit < 0:
        raise invalid_argument("max_output_size must be non-negative")
    overlap_threshold = _scalar_input(overlap_threshold, "overlap_threshold")
    score_threshold = _scalar_input(score_threshold, "score_threshold")
    scores = scores.astype(np.float32)
    # By decreasing score, the lower index first among equal scores, as the other NMS ops.
    queue = [(-scores[i], int(i)) for i in np.flatnonzero(scores > score_threshold)]
    heapq.heapify(queue)
    selected = []
    while queue and len(selected) < min(limit, scores.shape[0]):
        _, index = heapq.heappop(queue)
        if not any(overlaps[index, other] > overlap_threshold for other in selected):
            selected.append(index)
    return (np.asarray(selected, np.int32),)


register_kernel("CombinedNonMaxSuppression", reference=_combined_nms_kernel)
register_kernel("NonMaxSuppressionWithOverlaps", reference=_nms_with_overlaps_kernel)


# ---- ExtractGlimpse (kept with the other detection-model image ops) ---------------------------

def _extract_glimpse_kernel(ctx, inputs, attrs):
    """Each batch entry's ``size`` window at its offset; pixels outside the image are noise:
    uniform between the image channel's min and max (TF's default, whatever `uniform_noise`
    says while `noise` is "uniform"), Gaussian with its mean and deviation, or zero."""
    images, size, offsets = inputs
    if images.ndim != 4:
        raise invalid_argument(f"input must be 4-dimensional{list(images.shape)}")
    if size.shape != (2,):
        raise invalid_argument(f"input must be a vector of size 2 (height, width): "
                               f"{list(size.shape)}")
    batch, height, width, channels = images.shape
    if offsets.shape != (batch, 2):
        raise invalid_argument(f"offsets must be [batch_size, 2]: {list(offsets.shape)}")
    out_height, out_width = int(size[0]), int(size[1])
    if out_height <= 0 or out_width <= 0:
        raise invalid_argument("the glimpse size must be positive")
    noise = "uniform" if attrs.get("uniform_noise", True) else attrs.get("noise", "uniform")
    result = np.zeros((batch, out_height, out_width, channels), np.float32)
    generator = np.random.default_rng()
    for entry in range(batch):
        y, x = (np.float32(v) for v in offsets[entry])
        if attrs.get("normalized", True):
            y, x = y * np.float32(height), x * np.float32(width)
        if attrs.get("centered", True):
            y = y / np.float32(2) + np.float32(height / 2.0)
            x = x / np.float32(2) + np.float32(width / 2.0)
        # The window's corner, truncated toward zero as TF's integer cast does.
        top = int(y - np.float32(out_height / 2.0))
        left = int(x - np.float32(out_width / 2.0))
        image = images[entry].astype(np.float32)
        if noise == "zero" or image.size == 0:
            fill = np.zeros((out_height, out_width, channels), np.float32)
        elif noise == "gaussian":
            fill = generator.normal(image.mean((0, 1)), image.std((0, 1)),
                                    (out_height, out_width, channels))
        else:
            fill = generator.uniform(image.min((0, 1)), image.max((0, 1)),
                                     (out_height, out_width, channels))
        result[entry] = fill
        rows = np.arange(top, top + out_height)
        cols = np.arange(left, left + out_width)
        row_in, col_in = (rows >= 0) & (rows < height), (cols >= 0) & (cols < width)
        result[entry][np.ix_(row_in, col_in)] = image[np.ix_(rows[row_in], cols[col_in])]
    return (result,)


register_kernel("ExtractGlimpse", reference=_extract_glimpse_kernel)

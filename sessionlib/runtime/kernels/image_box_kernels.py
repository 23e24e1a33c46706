"""Kernels of the image box ops (``sessionlib/ops/image_box_ops.py``): NonMaxSuppression (V1
to V3), CropAndResize with its gradients, SampleDistortedBoundingBoxV2 and
DrawBoundingBoxes (V1 and V2).

Design. Sampling coordinates are float32 in TF's order of operations, so crops match TF's CPU
kernel; the per-box work is whole-array numpy indexing. Non-max suppression is greedy and
sequential by nature; it walks the boxes in score order (ties: lower index first, as TF) and
compares each with the boxes kept so far. The crop sampler draws from the op's generator in the
session's resources (as the random ops do), so seeds give a reproducible stream, though not
TF's numbers.
"""

import heapq

import numpy as np

from sessionlib import errors
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument
from sessionlib.runtime.kernels.random_kernels import _generator


def _shape_text(array):
    return "[" + ",".join(str(d) for d in array.shape) + "]"


# ---- non-max suppression --------------------------------------------------------------------

def _iou_with(boxes, areas, index, others):
    """float32 intersection over union of box `index` with each box in `others`; 0 where
    either box is empty, as TF."""
    ymin, xmin, ymax, xmax = boxes[index]
    inter_h = np.maximum(np.minimum(ymax, boxes[others, 2]) - np.maximum(ymin, boxes[others, 0]),
                         np.float32(0))
    inter_w = np.maximum(np.minimum(xmax, boxes[others, 3]) - np.maximum(xmin, boxes[others, 1]),
                         np.float32(0))
    inter = inter_h * inter_w
    union = areas[index] + areas[others] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
    empty = (areas[index] <= 0) | (areas[others] <= 0)
    return np.where(empty, np.float32(0), iou).astype(np.float32)


def _scalar_input(array, name):
    if array.ndim != 0:
        raise invalid_argument(f"{name} must be 0-D, got shape {_shape_text(array)}")
    return np.float32(array)


def _greedy_selection(boxes, scores, limit, iou_threshold, score_threshold, soft_nms_sigma):
    """(indices, scores) that (soft) non-max suppression selects, in selection order.

    Candidates leave a queue by decreasing score, the lower index first among equal scores.
    Hard suppression (sigma 0) drops a candidate overlapping a selected box by more than
    `iou_threshold`. Soft suppression scales its score by ``exp(-iou**2 / (2 sigma))`` for
    each selected box and queues it again while it stays above `score_threshold`; each
    candidate is weighed against each selected box once (the boxes selected since it was
    last weighed).
    """
    soft = soft_nms_sigma > 0
    scale = np.float32(-0.5) / soft_nms_sigma if soft else np.float32(0)
    # TF works on float32 corners, each box as [min, max] whichever diagonal it is given by.
    corners = boxes.astype(np.float32)
    boxes = np.concatenate([np.minimum(corners[:, :2], corners[:, 2:]),
                            np.maximum(corners[:, :2], corners[:, 2:])], axis=1)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    queue = [(-scores[i], int(i), 0) for i in np.flatnonzero(scores > score_threshold)]
    heapq.heapify(queue)
    selected, selected_scores = [], []
    while queue and len(selected) < limit:
        negated, index, weighed_until = heapq.heappop(queue)
        score = -negated
        others = np.asarray(selected[weighed_until:][::-1], dtype=np.int64)
        if others.size:
            iou = _iou_with(boxes, areas, index, others)
            # Only an overlap above the threshold suppresses: at 0, disjoint boxes all stay.
            if not soft and (iou > iou_threshold).any():
                continue
            if soft:
                weights = np.exp(scale * iou * iou).astype(np.float32)
                weighed = score * np.multiply.accumulate(weights, dtype=np.float32)
                score = weighed[-1]
        if score == -negated:
            selected.append(index)
            selected_scores.append(score)
        elif score > score_threshold:
            heapq.heappush(queue, (-score, index, len(selected)))
    return selected, selected_scores


def _nms_kernel(ctx, inputs, attrs):
    """NonMaxSuppression V1 to V5: the thresholds come from attrs (V1) or inputs."""
    boxes, scores, max_output_size = inputs[:3]
    if len(inputs) > 3:
        iou_threshold = _scalar_input(inputs[3], "iou_threshold")
    else:
        iou_threshold = np.float32(attrs["iou_threshold"])
    score_threshold = (_scalar_input(inputs[4], "score_threshold") if len(inputs) > 4
                       else np.float32(-np.inf))
    soft_nms_sigma = (_scalar_input(inputs[5], "soft_nms_sigma") if len(inputs) > 5
                      else np.float32(0))
    if max_output_size.ndim != 0:
        raise invalid_argument(f"max_output_size must be 0-D, got shape "
                               f"{_shape_text(max_output_size)}")
    if not 0.0 <= iou_threshold <= 1.0:
        raise invalid_argument("iou_threshold must be in [0, 1]")
    if soft_nms_sigma < 0:
        raise invalid_argument("soft_nms_sigma must be non-negative")
    if boxes.ndim != 2:
        raise invalid_argument(f"boxes must be 2-D{_shape_text(boxes)}")
    if boxes.shape[1] != 4:
        raise invalid_argument(f"boxes must have 4 columns{_shape_text(boxes)}")
    num_boxes = boxes.shape[0]
    if scores.ndim != 1 or scores.shape[0] != num_boxes:
        raise invalid_argument(f"scores has incompatible shape{_shape_text(scores)}")
    limit = int(max_output_size)
    if limit < 0:
        raise invalid_argument("max_output_size must be non-negative")
    selected, selected_scores = _greedy_selection(
        boxes, scores.astype(np.float32), min(limit, num_boxes), iou_threshold,
        score_threshold, soft_nms_sigma)
    indices = np.asarray(selected, dtype=np.int32)
    kept_scores = np.asarray(selected_scores, dtype=scores.dtype)
    if "pad_to_max_output_size" not in attrs:
        return (indices,)
    valid = np.array(len(selected), np.int32)
    if attrs["pad_to_max_output_size"]:
        # Padded to max_output_size (not the number of boxes) with index 0 and score 0.
        indices = np.concatenate([indices, np.zeros(limit - len(selected), np.int32)])
        kept_scores = np.concatenate([kept_scores,
                                      np.zeros(limit - len(selected), scores.dtype)])
    if len(inputs) > 5:
        return indices, kept_scores, valid
    return indices, valid


# ---- crop_and_resize ------------------------------------------------------------------------

def _check_boxes(boxes, box_index):
    if boxes.size == 0 and box_index.size == 0:
        return 0
    if boxes.ndim != 2:
        raise invalid_argument(f"boxes must be 2-D{_shape_text(boxes)}")
    if boxes.shape[1] != 4:
        raise invalid_argument(f"boxes must have 4 columns{_shape_text(boxes)}")
    if box_index.ndim != 1:
        raise invalid_argument(f"box_index must be 1-D{_shape_text(box_index)}")
    if box_index.shape[0] != boxes.shape[0]:
        raise invalid_argument(f"box_index has incompatible shape{_shape_text(box_index)}")
    return boxes.shape[0]


def _check_box_index(box_index, batch):
    if box_index.size and (box_index.min() < 0 or box_index.max() >= batch):
        raise errors.OutOfRangeError(None, None, "box_index has values outside [0, batch_size)")


def _check_method(attrs, allowed=("bilinear", "nearest")):
    method = attrs["method"]
    if method not in allowed:
        raise invalid_argument(f"method must be {' or '.join(repr(m) for m in allowed)}, got "
                               f"{method!r}")
    return method


def _axis_samples(low, high, in_size, out_size):
    """(float32 sample coordinates, float32 step ratio) of one box axis, as TF computes them:
    `out_size` samples from ``low * (in_size - 1)`` to ``high * (in_size - 1)``, or the middle
    when there is one sample."""
    span = np.float32(in_size - 1)
    if out_size > 1:
        scale = (high - low) * span / np.float32(out_size - 1)
        coords = low * span + np.arange(out_size, dtype=np.float32) * scale
    else:
        coords = np.full(1, np.float32(0.5) * (low + high) * span, np.float32)
    return coords.astype(np.float32), (coords >= 0) & (coords <= span)


def _box_samples(boxes, height, width, crop_height, crop_width):
    """Per box: its index, then the coordinates of its sample rows and whether each lies in
    the image, then the same for its columns."""
    for b, (y1, x1, y2, x2) in enumerate(boxes.astype(np.float32, copy=False)):
        ys, y_in = _axis_samples(y1, y2, height, crop_height)
        xs, x_in = _axis_samples(x1, x2, width, crop_width)
        yield b, ys, y_in, xs, x_in


def _bilinear_parts(coords, inside, in_size):
    """(lower index, upper index, float32 upper weight) of in-image coordinates; outside ones
    get index 0 (their samples are replaced)."""
    safe = np.where(inside, coords, np.float32(0))
    lower = np.floor(safe)
    upper = np.minimum(np.ceil(safe), in_size - 1)
    return lower.astype(np.int64), upper.astype(np.int64), (safe - lower).astype(np.float32)


def _nearest_index(coords, inside):
    # TF rounds half away from zero; in-image coordinates are never negative.
    safe = np.where(inside, coords, np.float32(0))
    return np.floor(safe + np.float32(0.5)).astype(np.int64)


def _crop_size(crop_size):
    if crop_size.ndim != 1:
        raise invalid_argument(f"crop_size must be 1-D{_shape_text(crop_size)}")
    if crop_size.shape[0] != 2:
        raise invalid_argument(f"crop_size must have two elements{_shape_text(crop_size)}")
    height, width = int(crop_size[0]), int(crop_size[1])
    if height <= 0 or width <= 0:
        raise invalid_argument("crop dimensions must be positive")
    return height, width


def _image_dims(shape):
    if shape[1] <= 0 or shape[2] <= 0:
        raise invalid_argument("image dimensions must be positive")


def _crop_and_resize_kernel(ctx, inputs, attrs):
    image, boxes, box_index, crop_size = inputs
    method = _check_method(attrs)
    if image.ndim != 4:
        raise invalid_argument(f"input image must be 4-D{_shape_text(image)}")
    batch, height, width, depth = image.shape
    _image_dims(image.shape)
    num_boxes = _check_boxes(boxes, box_index)
    crop_height, crop_width = _crop_size(crop_size)
    _check_box_index(box_index, batch)
    extrapolation = np.float32(attrs["extrapolation_value"])
    result = np.empty((num_boxes, crop_height, crop_width, depth), np.float32)
    for b, ys, y_in, xs, x_in in _box_samples(boxes, height, width, crop_height, crop_width):
        source = image[box_index[b]]
        if method == "bilinear":
            top, bottom, y_lerp = _bilinear_parts(ys, y_in, height)
            left, right, x_lerp = _bilinear_parts(xs, x_in, width)
            top_rows = source[top].astype(np.float32)
            bottom_rows = source[bottom].astype(np.float32)
            x_lerp = x_lerp[None, :, None]
            upper = top_rows[:, left] + (top_rows[:, right] - top_rows[:, left]) * x_lerp
            lower = bottom_rows[:, left] + (bottom_rows[:, right] - bottom_rows[:, left]) * x_lerp
            crop = upper + (lower - upper) * y_lerp[:, None, None]
        else:
            rows, cols = _nearest_index(ys, y_in), _nearest_index(xs, x_in)
            crop = source[rows][:, cols].astype(np.float32)
        inside = y_in[:, None, None] & x_in[None, :, None]
        result[b] = np.where(inside, crop, extrapolation)
    return (result,)


def _check_grads(grads, num_boxes):
    if grads.ndim != 4:
        raise invalid_argument(f"grads image must be 4-D{_shape_text(grads)}")
    if grads.shape[1] <= 0 or grads.shape[2] <= 0:
        raise invalid_argument("grads dimensions must be positive")
    if grads.shape[0] != num_boxes:
        raise invalid_argument("boxes and grads have incompatible shape")


def _crop_grad_image_kernel(ctx, inputs, attrs):
    grads, boxes, box_index, image_size = inputs
    method = _check_method(attrs)
    num_boxes = _check_boxes(boxes, box_index)
    _check_grads(grads, num_boxes)
    if image_size.ndim != 1 or image_size.shape[0] != 4:
        raise invalid_argument(f"image_size must be 1-D with 4 elements{_shape_text(image_size)}")
    batch, height, width, depth = (int(v) for v in image_size)
    if height <= 0 or width <= 0:
        raise invalid_argument("image dimensions must be positive")
    if grads.shape[3] != depth:
        raise invalid_argument("image_size and grads are incompatible")
    _check_box_index(box_index, batch)
    out_dtype = np.dtype(attrs["T"].as_numpy_dtype)
    result = np.zeros((batch, height, width, depth), np.float32)
    _, crop_height, crop_width, _ = grads.shape
    grads = grads.astype(np.float32, copy=False)
    for b, ys, y_in, xs, x_in in _box_samples(boxes, height, width, crop_height, crop_width):
        target = result[box_index[b]].reshape(height * width, depth)
        rows_in, cols_in = np.flatnonzero(y_in), np.flatnonzero(x_in)
        grad = grads[b][rows_in][:, cols_in]
        if method == "bilinear":
            top, bottom, y_lerp = (part[rows_in] for part in _bilinear_parts(ys, y_in, height))
            left, right, x_lerp = (part[cols_in] for part in _bilinear_parts(xs, x_in, width))
            y_keep, x_keep = np.float32(1) - y_lerp, np.float32(1) - x_lerp
            upper = grad * y_keep[:, None, None]
            lower = grad * y_lerp[:, None, None]
            for rows, part in ((top, upper), (bottom, lower)):
                for cols, weight in ((left, x_keep), (right, x_lerp)):
                    flat = (rows[:, None] * width + cols[None, :]).reshape(-1)
                    np.add.at(target, flat, (part * weight[None, :, None]).reshape(-1, depth))
        else:
            rows = _nearest_index(ys, y_in)[rows_in]
            cols = _nearest_index(xs, x_in)[cols_in]
            flat = (rows[:, None] * width + cols[None, :]).reshape(-1)
            np.add.at(target, flat, grad.reshape(-1, depth))
    return (result.astype(out_dtype, copy=False),)


def _corner_gradients(d_coordinate, samples, out_size, in_size):
    """The gradients of one axis' low and high box corners, given the gradient of each
    in-image sample's coordinate (`d_coordinate`, for sample indices `samples`).

    Sample i sits at ``low * span + i * (high - low) * span / (out_size - 1)``, span being
    ``in_size - 1``; a lone sample at ``(low + high) / 2 * span``.
    """
    span = np.float32(in_size - 1)
    if out_size == 1:
        both = d_coordinate.sum() * np.float32(0.5) * span
        return both, both
    steps = samples.astype(np.float32) * (span / np.float32(out_size - 1))
    return (d_coordinate * (span - steps)).sum(), (d_coordinate * steps).sum()


def _crop_grad_boxes_kernel(ctx, inputs, attrs):
    grads, image, boxes, box_index = inputs
    _check_method(attrs, ("bilinear",))
    num_boxes = _check_boxes(boxes, box_index)
    _check_grads(grads, num_boxes)
    if image.ndim != 4:
        raise invalid_argument(f"input image must be 4-D{_shape_text(image)}")
    batch, height, width, depth = image.shape
    _image_dims(image.shape)
    if grads.shape[3] != depth:
        raise invalid_argument("image, grads depth differ")
    _check_box_index(box_index, batch)
    _, crop_height, crop_width, _ = grads.shape
    result = np.zeros((num_boxes, 4), np.float32)
    grads = grads.astype(np.float32, copy=False)
    for b, ys, y_in, xs, x_in in _box_samples(boxes, height, width, crop_height, crop_width):
        rows_in, cols_in = np.flatnonzero(y_in), np.flatnonzero(x_in)
        if rows_in.size == 0 or cols_in.size == 0:
            continue
        top, bottom, y_lerp = (part[rows_in] for part in _bilinear_parts(ys, y_in, height))
        left, right, x_lerp = (part[cols_in] for part in _bilinear_parts(xs, x_in, width))
        source = image[box_index[b]]
        top_left = source[top][:, left].astype(np.float32)
        top_right = source[top][:, right].astype(np.float32)
        bottom_left = source[bottom][:, left].astype(np.float32)
        bottom_right = source[bottom][:, right].astype(np.float32)
        x_lerp, y_lerp = x_lerp[None, :, None], y_lerp[:, None, None]
        along_y = ((1 - x_lerp) * (bottom_left - top_left)
                   + x_lerp * (bottom_right - top_right))
        along_x = ((1 - y_lerp) * (top_right - top_left)
                   + y_lerp * (bottom_right - bottom_left))
        grad = grads[b][rows_in][:, cols_in]
        dy = (grad * along_y).sum(axis=(1, 2))
        dx = (grad * along_x).sum(axis=(0, 2))
        d_y1, d_y2 = _corner_gradients(dy, rows_in, crop_height, height)
        d_x1, d_x2 = _corner_gradients(dx, cols_in, crop_width, width)
        result[b] = (d_y1, d_x1, d_y2, d_x2)
    return (result,)


# ---- sample_distorted_bounding_box ----------------------------------------------------------

def _round(value):
    # lrintf: to nearest, ties to even (the default rounding mode).
    return int(np.rint(np.float32(value)))


def _random_crop(rng, width, height, area_range, aspect_ratio):
    """A crop ``(x, y, crop_width, crop_height)`` of aspect ratio `aspect_ratio` whose area
    lies in `area_range` (fractions of the image), or None when none fits."""
    min_area = np.float32(area_range[0]) * np.float32(width) * np.float32(height)
    max_area = np.float32(area_range[1]) * np.float32(width) * np.float32(height)
    crop_height = _round(np.sqrt(min_area / aspect_ratio))
    max_height = _round(np.sqrt(max_area / aspect_ratio))
    if _round(max_height * aspect_ratio) > width:
        # The largest height whose rounded width still fits.
        max_height = int((width + 0.5 - 1e-7) / aspect_ratio)
        if _round(max_height * aspect_ratio) > width:
            max_height -= 1
    max_height = min(max_height, height)
    crop_height = min(crop_height, max_height)
    if crop_height < max_height:
        crop_height += int(rng.integers(0, max_height - crop_height + 1))
    crop_width = _round(crop_height * aspect_ratio)
    area = crop_width * crop_height
    # Rounding may push the area just outside the range: try one row more, then one less.
    if area < min_area:
        crop_height += 1
        crop_width = _round(crop_height * aspect_ratio)
        area = crop_width * crop_height
    if area > max_area:
        crop_height -= 1
        crop_width = _round(crop_height * aspect_ratio)
        area = crop_width * crop_height
    if (area < min_area or area > max_area or crop_width > width or crop_height > height
            or crop_width <= 0 or crop_height <= 0):
        return None
    y = int(rng.integers(0, height - crop_height)) if crop_height < height else 0
    x = int(rng.integers(0, width - crop_width)) if crop_width < width else 0
    return x, y, crop_width, crop_height


def _covers_an_object(crop, objects, min_covered):
    """Whether `crop` (x, y, w, h) is non-empty and covers at least `min_covered` of the area
    of some non-empty object (x0, y0, x1, y1)."""
    x, y, crop_width, crop_height = crop
    if crop_width * crop_height < 1:
        return False
    for x0, y0, x1, y1 in objects:
        area = (x1 - x0) * (y1 - y0)
        if area < 1:
            continue
        overlap_w = min(x + crop_width, x1) - max(x, x0)
        overlap_h = min(y + crop_height, y1) - max(y, y0)
        overlap = overlap_w * overlap_h if overlap_w > 0 and overlap_h > 0 else 0
        if np.float32(overlap) / np.float32(area) >= min_covered:
            return True
    return False


def _sample_box_kernel(ctx, inputs, attrs):
    image_size, bounding_boxes, min_object_covered = inputs
    if image_size.ndim != 1:
        raise invalid_argument(f"image_size must be 1-dimensional{_shape_text(image_size)}")
    if image_size.shape[0] != 3:
        raise invalid_argument(f"image_size must contain 3 elements{_shape_text(image_size)}")
    height, width = int(image_size[0]), int(image_size[1])
    if height < 0 or width < 0:
        raise invalid_argument(f"image height and width must be non-negative, got "
                               f"[{height}, {width}]")
    if bounding_boxes.ndim != 3:
        raise invalid_argument(f"input boxes must be 3-dimensional [batch, num_boxes, coords]: "
                               f"{_shape_text(bounding_boxes)}")
    if bounding_boxes.shape[2] != 4:
        raise invalid_argument(f"bounding boxes must have shape [4] or [*, 4]: "
                               f"{_shape_text(bounding_boxes)}")
    if min_object_covered.ndim != 0:
        raise invalid_argument(f"min_object_covered must be 0-D: "
                               f"{_shape_text(min_object_covered)}")
    min_covered = np.float32(min_object_covered)
    if not min_covered >= 0:
        raise invalid_argument(f"min_object_covered must be non-negative: {min_covered}")
    flat = bounding_boxes.reshape(-1, 4).astype(np.float32)
    if flat.size and not ((flat >= 0) & (flat <= 1)).all():
        bad = flat[~((flat >= 0) & (flat <= 1))][0]
        raise invalid_argument(f"All bounding box coordinates must be in [0.0, 1.0]: {bad}")
    # Pixel corners (x0, y0, x1, y1), truncated as TF's integer rectangles.
    objects = [(int(xmin * np.float32(width)), int(ymin * np.float32(height)),
                int(xmax * np.float32(width)), int(ymax * np.float32(height)))
               for ymin, xmin, ymax, xmax in flat]
    if not objects:
        if not attrs["use_image_if_no_bounding_boxes"]:
            raise invalid_argument("No bounding boxes provided as input. One must enable "
                                   "use_image_if_no_bounding_boxes if you wish to not "
                                   "provide any bounding boxes.")
        objects = [(0, 0, width, height)]
    low_ratio, high_ratio = (np.float32(v) for v in attrs["aspect_ratio_range"])
    area_range = attrs["area_range"]
    crop = (0, 0, width, height)
    state = _generator(ctx, attrs)
    with state.lock:
        for _ in range(int(attrs["max_attempts"])):
            ratio = np.float32(state.rng.random(dtype=np.float32)) * (high_ratio - low_ratio)
            candidate = _random_crop(state.rng, width, height, area_range, ratio + low_ratio)
            if candidate is not None and _covers_an_object(candidate, objects, min_covered):
                crop = candidate
                break
    x, y, crop_width, crop_height = crop
    dtype = image_size.dtype
    begin = np.array([y, x, 0], dtype)
    # -1 wraps in an unsigned dtype (255 for uint8), as TF's cast does.
    size = np.array([crop_height, crop_width, -1], np.int64).astype(dtype)
    # float32 division: an empty image dimension gives NaN box coordinates, as TF's.
    with np.errstate(divide="ignore", invalid="ignore"):
        box = (np.array([y, x, y + crop_height, x + crop_width], np.float32)
               / np.array([height, width, height, width], np.float32)).reshape(1, 1, 4)
    return begin, size, box


# ---- draw_bounding_boxes --------------------------------------------------------------------

# TF's default color cycle (RGBA): yellow, blue, red, lime, purple, olive, maroon, navy,
# aqua, fuchsia.
_DEFAULT_COLORS = np.array([[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1],
                            [0.5, 0, 0.5, 1], [0.5, 0.5, 0, 1], [0.5, 0, 0, 1],
                            [0, 0, 0.5, 1], [0, 1, 1, 1], [1, 0, 1, 1]], np.float32)


def _to_int64(value):
    """A float's int64 truncation as TF's CPU kernel gets it: NaN, infinities and values out of
    int64's range all become INT64_MIN (x86's "integer indefinite"), not a Python error."""
    if not -2.0 ** 63 <= value < 2.0 ** 63:
        return -(2 ** 63)
    return int(value)


def _draw_kernel(ctx, inputs, attrs):
    images, boxes = inputs[:2]
    if images.ndim != 4:
        raise invalid_argument(f"The rank of the images should be 4{_shape_text(images)}")
    batch, height, width, depth = images.shape
    if depth not in (1, 3, 4):
        raise invalid_argument("Channel depth should be either 1 (GRY), 3 (RGB), or 4 (RGBA)")
    if boxes.ndim != 3 or boxes.shape[0] != batch or boxes.shape[2] != 4:
        raise invalid_argument(f"boxes must be [batch, num_boxes, 4], got {_shape_text(boxes)} "
                               f"for a batch of {batch}")
    colors = _DEFAULT_COLORS
    if len(inputs) == 3:
        given = inputs[2]
        if given.ndim != 2:
            raise invalid_argument(f"colors must be a 2-D matrix{_shape_text(given)}")
        if given.shape[1] < depth:
            raise invalid_argument(f"colors must have equal or more channels than the image "
                                   f"provided: {_shape_text(given)}")
        if given.size:
            colors = np.zeros((given.shape[0], 4), np.float32)
            columns = min(4, given.shape[1])
            colors[:, :columns] = given[:, :columns]
    if depth == 1:
        # Gray images: every box is drawn white.
        colors = colors.copy()
        colors[:, 0] = 1
    canvas = images.copy()
    for b in range(batch):
        for index, (ymin, xmin, ymax, xmax) in enumerate(boxes[b].astype(np.float32)):
            color = colors[index % len(colors), :depth].astype(images.dtype)
            # int64 truncation toward zero of the float32 products, as TF.
            top = _to_int64(ymin * np.float32(height - 1))
            bottom = _to_int64(ymax * np.float32(height - 1))
            left = _to_int64(xmin * np.float32(width - 1))
            right = _to_int64(xmax * np.float32(width - 1))
            if top > bottom or left > right:
                continue  # an inverted box is not drawn
            if top >= height or bottom < 0 or left >= width or right < 0:
                continue  # wholly outside the image
            row_from, row_to = max(top, 0), min(bottom, height - 1)
            col_from, col_to = max(left, 0), min(right, width - 1)
            if top >= 0:
                canvas[b, top, col_from:col_to + 1] = color
            if bottom < height:
                canvas[b, bottom, col_from:col_to + 1] = color
            if left >= 0:
                canvas[b, row_from:row_to + 1, left] = color
            if right < width:
                canvas[b, row_from:row_to + 1, right] = color
    return (canvas,)


register_kernel("NonMaxSuppression", reference=_nms_kernel)
register_kernel("NonMaxSuppressionV2", reference=_nms_kernel)
register_kernel("NonMaxSuppressionV4", reference=_nms_kernel)
register_kernel("CropAndResize", reference=_crop_and_resize_kernel)
register_kernel("CropAndResizeGradImage", reference=_crop_grad_image_kernel)
register_kernel("CropAndResizeGradBoxes", reference=_crop_grad_boxes_kernel)
register_kernel("SampleDistortedBoundingBoxV2", reference=_sample_box_kernel)
register_kernel("DrawBoundingBoxes", reference=_draw_kernel)

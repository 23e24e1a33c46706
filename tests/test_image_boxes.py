"""tf.image's box ops against plain-loop numpy references: non_max_suppression and
non_max_suppression_with_scores (ops V1 to V5), crop_and_resize and its gradient ops,
sample_distorted_bounding_box (its properties: TF's random stream cannot be reproduced) and
draw_bounding_boxes; with the errors TF gives for bad shapes (ValueError while the graph is
built) and bad values (when it runs)."""

import numpy as np
import pytest

import sessionlib as tf


def _run(fetches, feed_dict=None):
    with tf.Session() as session:
        return session.run(fetches, feed_dict)


# ---- non_max_suppression --------------------------------------------------------------------

def _iou(a, b):
    ay0, ax0, ay1, ax1 = min(a[0], a[2]), min(a[1], a[3]), max(a[0], a[2]), max(a[1], a[3])
    by0, bx0, by1, bx1 = min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3])
    area_a, area_b = (ay1 - ay0) * (ax1 - ax0), (by1 - by0) * (bx1 - bx0)
    if area_a <= 0 or area_b <= 0:
        return 0.0
    inter = max(min(ay1, by1) - max(ay0, by0), 0) * max(min(ax1, bx1) - max(ax0, bx0), 0)
    return inter / (area_a + area_b - inter)


def _nms_reference(boxes, scores, limit, iou_threshold, score_threshold=-np.inf):
    order = sorted((i for i in range(len(scores)) if scores[i] > score_threshold),
                   key=lambda i: (-scores[i], i))
    kept = []
    for i in order:
        if len(kept) == limit:
            break
        if all(_iou(boxes[i], boxes[j]) <= iou_threshold for j in kept):
            kept.append(i)
    return kept


def _random_boxes(rng, count):
    corners = rng.uniform(0, 1, (count, 4)).astype(np.float32)
    # Integer scores: many ties, which the lower index wins.
    return corners, rng.integers(0, 5, count).astype(np.float32)


@pytest.mark.parametrize("iou_threshold", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_nms_matches_the_greedy_reference(iou_threshold):
    rng = np.random.default_rng(int(iou_threshold * 10))
    boxes, scores = _random_boxes(rng, 60)
    with tf.Graph().as_default():
        picked = tf.image.non_max_suppression(boxes, scores, 40, iou_threshold)
        assert picked.dtype is tf.int32 and picked.shape.as_list() == [None]
        limited = tf.image.non_max_suppression(boxes, scores, 5, iou_threshold)
        thresholded = tf.image.non_max_suppression(boxes, scores, 40, iou_threshold,
                                                   score_threshold=2.0)
        got = _run([picked, limited, thresholded])
    np.testing.assert_array_equal(got[0], _nms_reference(boxes, scores, 40, iou_threshold))
    np.testing.assert_array_equal(got[1], _nms_reference(boxes, scores, 5, iou_threshold))
    np.testing.assert_array_equal(got[2],
                                  _nms_reference(boxes, scores, 40, iou_threshold, 2.0))


def test_nms_by_hand():
    # Box 1 overlaps box 0 by exactly 0.5 (kept at threshold 0.5: only more suppresses);
    # box 2 is box 0 with its corners swapped; boxes 3 and 4 are empty and never suppress.
    boxes = np.array([[0, 0, 1, 1], [0, 0, 1, 0.5], [1, 1, 0, 0], [5, 5, 5, 6], [5, 5, 5, 6],
                      [0, 2, 1, 3]], np.float32)
    scores = np.array([0.9, 0.8, 0.85, 0.6, 0.6, 0.7], np.float32)
    with tf.Graph().as_default():
        half = tf.image.non_max_suppression(boxes, scores, 6, 0.5)
        below = tf.image.non_max_suppression(boxes, scores, 6, 0.49)
        zero = tf.image.non_max_suppression(boxes, scores, 6, 0.0)
        none = tf.image.non_max_suppression(boxes, scores, 0, 0.5)
        got = _run([half, below, zero, none])
    assert got[0].tolist() == [0, 1, 5, 3, 4]
    assert got[1].tolist() == [0, 5, 3, 4]
    assert got[2].tolist() == [0, 5, 3, 4]
    assert got[3].tolist() == []


def test_nms_v1_and_v2_ops_and_float16():
    rng = np.random.default_rng(5)
    boxes, scores = _random_boxes(rng, 30)
    graph = tf.Graph()
    with graph.as_default():
        v1 = graph.create_op("NonMaxSuppression", [tf.constant(boxes), tf.constant(scores),
                                                   tf.constant(10)],
                             {"iou_threshold": 0.3}).outputs[0]
        v2 = graph.create_op("NonMaxSuppressionV2",
                             [tf.constant(boxes.astype(np.float16)),
                              tf.constant(scores.astype(np.float16)), tf.constant(10),
                              tf.constant(0.3, tf.float16)]).outputs[0]
        got = _run([v1, v2])
    np.testing.assert_array_equal(got[0], _nms_reference(boxes, scores, 10, 0.3))
    half = boxes.astype(np.float16).astype(np.float32)
    np.testing.assert_array_equal(got[1], _nms_reference(half, scores, 10, 0.3))


def test_nms_graph_time_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Dimension"):
            tf.image.non_max_suppression(np.zeros((3, 3), np.float32), np.zeros(3, np.float32), 2)
        with pytest.raises(ValueError, match="equal"):
            tf.image.non_max_suppression(np.zeros((3, 4), np.float32), np.zeros(2, np.float32), 2)
        with pytest.raises(ValueError, match="rank"):
            tf.image.non_max_suppression(np.zeros((3, 4), np.float32), np.zeros(3, np.float32),
                                         [2])
        with pytest.raises(ValueError, match="iou_threshold"):
            tf.get_default_graph().create_op(
                "NonMaxSuppression", [tf.zeros([3, 4]), tf.zeros([3]), tf.constant(2)],
                {"iou_threshold": 1.5})


@pytest.mark.parametrize("feed", ["negative_size", "threshold", "scores"])
def test_nms_run_time_errors(feed):
    with tf.Graph().as_default():
        boxes = tf.placeholder(tf.float32)
        scores = tf.placeholder(tf.float32)
        size = tf.placeholder(tf.int32)
        threshold = tf.placeholder(tf.float32)
        picked = tf.image.non_max_suppression(boxes, scores, size, threshold)
        values = {boxes: np.zeros((3, 4), np.float32), scores: np.zeros(3, np.float32),
                  size: 2, threshold: 0.5}
        values[{"negative_size": size, "threshold": threshold, "scores": scores}[feed]] = {
            "negative_size": -1, "threshold": 1.5, "scores": np.zeros(2, np.float32)}[feed]
        with pytest.raises(tf.errors.InvalidArgumentError):
            _run(picked, values)


def _soft_nms_reference(boxes, scores, limit, score_threshold, sigma):
    """Soft-NMS as a plain loop: take the best candidate (lower index on ties); if a box
    selected since it was last weighed overlaps it, scale its score by exp(-iou^2 / 2 sigma)
    per such box and put it back while it stays above the threshold, else select it."""
    pending = {i: (float(scores[i]), 0) for i in range(len(scores))
               if scores[i] > score_threshold}
    kept, kept_scores = [], []
    while pending and len(kept) < limit:
        index = min(pending, key=lambda i: (-pending[i][0], i))
        score, weighed_until = pending.pop(index)
        new_score = score
        for j in reversed(kept[weighed_until:]):
            new_score *= np.exp(-0.5 / sigma * _iou(boxes[index], boxes[j]) ** 2)
        if new_score == score:
            kept.append(index)
            kept_scores.append(score)
        elif new_score > score_threshold:
            pending[index] = (new_score, len(kept))
    return kept, kept_scores


@pytest.mark.parametrize("sigma", [0.0, 0.3, 1.0])
def test_nms_with_scores(sigma):
    rng = np.random.default_rng(11)
    boxes = rng.uniform(0, 1, (40, 4)).astype(np.float32)
    scores = rng.uniform(0, 1, 40).astype(np.float32)
    with tf.Graph().as_default():
        indices, kept = tf.image.non_max_suppression_with_scores(boxes, scores, 30, 0.5, 0.2,
                                                                 soft_nms_sigma=sigma)
        assert indices.op.type == "NonMaxSuppressionV5"
        assert kept.dtype is tf.float32 and kept.shape.as_list() == [None]
        got_indices, got_scores = _run([indices, kept])
    if sigma == 0:
        expected = _nms_reference(boxes, scores, 30, 0.5, 0.2)
        np.testing.assert_array_equal(got_indices, expected)
        np.testing.assert_array_equal(got_scores, scores[expected])
    else:
        expected, expected_scores = _soft_nms_reference(boxes, scores, 30, 0.2, sigma)
        np.testing.assert_array_equal(got_indices, expected)
        np.testing.assert_allclose(got_scores, expected_scores, rtol=1e-5)


def test_padded_nms_ops():
    rng = np.random.default_rng(12)
    boxes, scores = _random_boxes(rng, 12)
    graph = tf.Graph()
    with graph.as_default():
        args = [tf.constant(boxes), tf.constant(scores), tf.constant(20), tf.constant(0.3),
                tf.constant(1.0)]
        padded, valid = graph.create_op("NonMaxSuppressionV4", args,
                                        {"pad_to_max_output_size": True}).outputs
        unpadded = graph.create_op("NonMaxSuppressionV4", args).outputs[0]
        v5 = graph.create_op("NonMaxSuppressionV5", args + [tf.constant(0.0)],
                             {"pad_to_max_output_size": True}).outputs
        assert padded.shape.as_list() == [20] and valid.shape.as_list() == []
        assert unpadded.shape.as_list() == [None]
        assert [t.shape.as_list() for t in v5] == [[20], [20], []]
        got = _run([padded, valid, unpadded] + v5)
    expected = _nms_reference(boxes, scores, 20, 0.3, 1.0)
    count = len(expected)
    assert got[1] == count and got[5] == count
    np.testing.assert_array_equal(got[0], expected + [0] * (20 - count))
    np.testing.assert_array_equal(got[2], expected)
    np.testing.assert_array_equal(got[3], got[0])
    np.testing.assert_array_equal(got[4], list(scores[expected]) + [0] * (20 - count))


def test_soft_nms_sigma_must_be_non_negative():
    with tf.Graph().as_default():
        sigma = tf.placeholder(tf.float32, [])
        indices, _ = tf.image.non_max_suppression_with_scores(
            np.zeros((2, 4), np.float32), np.ones(2, np.float32), 2, soft_nms_sigma=sigma)
        with pytest.raises(tf.errors.InvalidArgumentError, match="soft_nms_sigma"):
            _run(indices, {sigma: -1.0})


# ---- crop_and_resize ------------------------------------------------------------------------

def _sample_coordinates(low, high, in_size, out_size):
    # float32, as TF: a nearest sample half-way between pixels rounds by its float32 value.
    low, high, span = np.float32(low), np.float32(high), np.float32(in_size - 1)
    if out_size == 1:
        return [float(np.float32(0.5) * (low + high) * span)]
    step = (high - low) * span / np.float32(out_size - 1)
    return [float(low * span + np.float32(i) * step) for i in range(out_size)]


def _crop_reference(image, boxes, box_index, crop_size, method="bilinear", extrapolation=0.0):
    _, height, width, depth = image.shape
    crop_h, crop_w = crop_size
    out = np.empty((len(boxes), crop_h, crop_w, depth))
    for b, (y1, x1, y2, x2) in enumerate(boxes):
        source = image[box_index[b]].astype(np.float64)
        for i, y in enumerate(_sample_coordinates(y1, y2, height, crop_h)):
            for j, x in enumerate(_sample_coordinates(x1, x2, width, crop_w)):
                if not (0 <= y <= height - 1 and 0 <= x <= width - 1):
                    out[b, i, j] = extrapolation
                elif method == "nearest":
                    out[b, i, j] = source[int(np.floor(y + 0.5)), int(np.floor(x + 0.5))]
                else:
                    y0, x0 = int(np.floor(y)), int(np.floor(x))
                    y1_, x1_ = int(np.ceil(y)), int(np.ceil(x))
                    dy, dx = y - y0, x - x0
                    out[b, i, j] = ((1 - dy) * ((1 - dx) * source[y0, x0] + dx * source[y0, x1_])
                                    + dy * ((1 - dx) * source[y1_, x0] + dx * source[y1_, x1_]))
    return out


CROP_BOXES = np.array([[0.1, 0.2, 0.8, 0.9], [0.9, 0.7, 0.05, 0.1], [-0.2, -0.3, 1.2, 1.1],
                       [0.3, 0.3, 0.3, 0.6], [0.5, 0.5, 0.55, 0.52]], np.float32)
CROP_INDEX = np.array([0, 1, 1, 0, 1], np.int32)
# Boxes whose samples lie off the pixel grid, where the crop is differentiable in the corners.
OFF_GRID_BOXES = np.array([[0.13, 0.21, 0.77, 0.86], [0.91, 0.67, 0.07, 0.11],
                           [-0.18, 0.33, 1.16, 0.62], [0.31, 0.29, 0.33, 0.61],
                           [0.52, 0.47, 0.57, 0.54]], np.float32)


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
@pytest.mark.parametrize("crop_size", [(4, 3), (1, 1), (2, 7)])
def test_crop_and_resize_matches_the_reference(method, crop_size):
    image = np.random.default_rng(1).uniform(-3, 3, (2, 6, 7, 3)).astype(np.float32)
    with tf.Graph().as_default():
        crops = tf.image.crop_and_resize(image, CROP_BOXES, CROP_INDEX, list(crop_size),
                                         method=method, extrapolation_value=-7)
        assert crops.dtype is tf.float32
        assert crops.shape.as_list() == [5, *crop_size, 3]
        got = _run(crops)
    np.testing.assert_allclose(
        got, _crop_reference(image, CROP_BOXES.astype(np.float64), CROP_INDEX, crop_size,
                             method, -7.0), rtol=1e-5, atol=1e-5)


def test_crop_and_resize_integer_image_and_tf2_argument_name():
    image = np.arange(2 * 4 * 5, dtype=np.uint8).reshape(2, 4, 5, 1)
    with tf.Graph().as_default():
        image_t = tf.constant(image)
        crops = tf.image.crop_and_resize(image_t, CROP_BOXES, box_indices=CROP_INDEX,
                                         crop_size=[3, 3])
        got = _run(crops)
        grads = tf.gradients(tf.reduce_sum(crops), [image_t])
    np.testing.assert_allclose(got, _crop_reference(image, CROP_BOXES.astype(np.float64),
                                                     CROP_INDEX, (3, 3)), atol=1e-4)
    assert grads == [None]  # an integer image has no gradient, as TF


def _crop_grad_image_reference(grads, boxes, box_index, image_shape, method):
    batch, height, width, depth = image_shape
    out = np.zeros(image_shape)
    for b, (y1, x1, y2, x2) in enumerate(boxes):
        ys = _sample_coordinates(y1, y2, height, grads.shape[1])
        xs = _sample_coordinates(x1, x2, width, grads.shape[2])
        for i, y in enumerate(ys):
            for j, x in enumerate(xs):
                if not (0 <= y <= height - 1 and 0 <= x <= width - 1):
                    continue
                g = grads[b, i, j].astype(np.float64)
                target = out[box_index[b]]
                if method == "nearest":
                    target[int(np.floor(y + 0.5)), int(np.floor(x + 0.5))] += g
                    continue
                y0, x0, y1_, x1_ = int(np.floor(y)), int(np.floor(x)), int(np.ceil(y)), int(
                    np.ceil(x))
                dy, dx = y - y0, x - x0
                target[y0, x0] += (1 - dy) * (1 - dx) * g
                target[y0, x1_] += (1 - dy) * dx * g
                target[y1_, x0] += dy * (1 - dx) * g
                target[y1_, x1_] += dy * dx * g
    return out


def _crop_grad_boxes_reference(grads, image, boxes, box_index):
    """Central differences of sum(grads * crop), corner by corner."""
    out = np.zeros((len(boxes), 4))
    step = 1e-3
    for b in range(len(boxes)):
        for k in range(4):
            moved = []
            for sign in (1, -1):
                box = boxes[b:b + 1].astype(np.float64).copy()
                box[0, k] += sign * step
                moved.append((_crop_reference(image, box, box_index[b:b + 1], grads.shape[1:3])
                              * grads[b:b + 1]).sum())
            out[b, k] = (moved[0] - moved[1]) / (2 * step)
    return out


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_crop_and_resize_gradients_match_the_references(method):
    rng = np.random.default_rng(2)
    image = rng.uniform(-3, 3, (2, 6, 7, 3)).astype(np.float32)
    weights = rng.uniform(-1, 1, (5, 4, 3, 3)).astype(np.float32)
    with tf.Graph().as_default():
        image_t, boxes_t = tf.constant(image), tf.constant(OFF_GRID_BOXES)
        crops = tf.image.crop_and_resize(image_t, boxes_t, CROP_INDEX, [4, 3], method=method)
        image_grad, boxes_grad = tf.gradients(tf.reduce_sum(crops * weights),
                                              [image_t, boxes_t])
        assert image_grad.op.type == "CropAndResizeGradImage"
        assert boxes_grad.op.type == "CropAndResizeGradBoxes"
        assert image_grad.shape.as_list() == [2, 6, 7, 3]
        assert boxes_grad.shape.as_list() == [5, 4]
        got_image, got_boxes = _run([image_grad, boxes_grad])
    np.testing.assert_allclose(
        got_image, _crop_grad_image_reference(weights, OFF_GRID_BOXES, CROP_INDEX,
                                              image.shape, method), atol=1e-5)
    # The box gradient is the bilinear one for both methods, as TF.
    np.testing.assert_allclose(
        got_boxes, _crop_grad_boxes_reference(weights, image, OFF_GRID_BOXES, CROP_INDEX),
        rtol=2e-3, atol=2e-3)


def test_crop_and_resize_graph_time_errors():
    image = np.zeros((1, 3, 3, 1), np.float32)
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Dimension"):
            tf.image.crop_and_resize(image, [[0, 0, 1]], [0], [2, 2])
        with pytest.raises(ValueError, match="equal"):
            tf.image.crop_and_resize(image, [[0, 0, 1, 1]], [0, 0], [2, 2])
        with pytest.raises(ValueError, match="rank 4"):
            tf.image.crop_and_resize(image[0], [[0, 0, 1, 1]], [0], [2, 2])
        with pytest.raises(ValueError, match="Dimension"):
            tf.image.crop_and_resize(image, [[0, 0, 1, 1]], [0], [2, 2, 2])
        with pytest.raises(ValueError, match="method"):
            tf.image.crop_and_resize(image, [[0, 0, 1, 1]], [0], [2, 2], method="area")
        with pytest.raises(ValueError, match="method"):
            tf.get_default_graph().create_op(
                "CropAndResizeGradBoxes", [tf.zeros([1, 2, 2, 1]), tf.constant(image),
                                           tf.constant([[0., 0, 1, 1]]), tf.constant([0])],
                {"method": "nearest"})


@pytest.mark.parametrize("case, error", [
    ("index", tf.errors.OutOfRangeError), ("negative_index", tf.errors.OutOfRangeError),
    ("crop_size", tf.errors.InvalidArgumentError), ("image", tf.errors.InvalidArgumentError),
    ("boxes", tf.errors.InvalidArgumentError)])
def test_crop_and_resize_run_time_errors(case, error):
    with tf.Graph().as_default():
        image = tf.placeholder(tf.float32)
        boxes = tf.placeholder(tf.float32)
        box_index = tf.placeholder(tf.int32)
        size = tf.placeholder(tf.int32)
        crops = tf.image.crop_and_resize(image, boxes, box_index, size)
        values = {image: np.zeros((1, 3, 3, 1), np.float32),
                  boxes: np.array([[0, 0, 1, 1]], np.float32), box_index: [0], size: [2, 2]}
        bad = {"index": (box_index, [1]), "negative_index": (box_index, [-1]),
               "crop_size": (size, [0, 2]), "image": (image, np.zeros((1, 0, 3, 1))),
               "boxes": (boxes, np.zeros((1, 3), np.float32))}[case]
        values[bad[0]] = bad[1]
        with pytest.raises(error):
            _run(crops, values)


# ---- sample_distorted_bounding_box ----------------------------------------------------------

def _pixel_box(box, height, width):
    ymin, xmin, ymax, xmax = np.float32(box)
    return (int(xmin * np.float32(width)), int(ymin * np.float32(height)),
            int(xmax * np.float32(width)), int(ymax * np.float32(height)))


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64, tf.uint8])
def test_sampled_crops_satisfy_the_constraints(dtype):
    height, width = (200, 240) if dtype is not tf.uint8 else (200, 240 - 40)
    objects = [[0.1, 0.2, 0.5, 0.45], [0.6, 0.6, 0.9, 0.95]]
    min_covered, areas, ratios = 0.5, (0.1, 0.8), (0.5, 2.0)
    with tf.Graph().as_default():
        begin, size, box = tf.image.sample_distorted_bounding_box(
            tf.constant([height, width, 3], dtype), [objects], seed=4, seed2=9,
            min_object_covered=min_covered, aspect_ratio_range=ratios, area_range=areas)
        assert begin.dtype is dtype and size.dtype is dtype and box.dtype is tf.float32
        assert [t.shape.as_list() for t in (begin, size, box)] == [[3], [3], [1, 1, 4]]
        with tf.Session() as session:
            draws = [session.run([begin, size, box]) for _ in range(40)]
    pixel_objects = [_pixel_box(b, height, width) for b in objects]
    for begin_v, size_v, box_v in draws:
        y, x, zero = (int(v) for v in begin_v)
        crop_h, crop_w = int(size_v[0]), int(size_v[1])
        # -1 ("the rest") in the size's dtype: 255 for uint8, as TF.
        assert zero == 0 and size_v[2] == np.array(-1).astype(size_v.dtype)
        assert 0 <= y and y + crop_h <= height and 0 <= x and x + crop_w <= width
        area = crop_h * crop_w / (height * width)
        assert areas[0] <= area <= areas[1]
        # The width is the rounded height * ratio: within half a pixel of the range.
        assert ratios[0] * crop_h - 0.5 <= crop_w <= ratios[1] * crop_h + 0.5
        covered = []
        for x0, y0, x1, y1 in pixel_objects:
            overlap_w = max(min(x + crop_w, x1) - max(x, x0), 0)
            overlap_h = max(min(y + crop_h, y1) - max(y, y0), 0)
            covered.append(overlap_w * overlap_h / ((x1 - x0) * (y1 - y0)))
        assert max(covered) >= min_covered
        np.testing.assert_allclose(box_v[0, 0], [y / height, x / width, (y + crop_h) / height,
                                                 (x + crop_w) / width], rtol=1e-6)
    assert len({(tuple(b), tuple(s)) for b, s, _ in draws}) > 10


def _draw_sequence(seed, seed2, runs=5):
    with tf.Graph().as_default():
        begin, size, _ = tf.image.sample_distorted_bounding_box(
            [300, 400, 3], [[[0.2, 0.2, 0.7, 0.6]]], seed=seed, seed2=seed2)
        with tf.Session() as session:
            return [tuple(np.concatenate(session.run([begin, size]))) for _ in range(runs)]


def test_sampled_crops_are_reproducible_under_seeds():
    first = _draw_sequence(7, 11)
    assert first == _draw_sequence(7, 11)
    assert first != _draw_sequence(7, 12)
    assert len(set(first)) > 1  # each run of the op draws a new crop


def test_the_graph_seed_plays_no_part_as_tf1():
    with tf.Graph().as_default():
        tf.set_random_seed(5)
        _, _, box = tf.image.sample_distorted_bounding_box([10, 10, 3], [[[0, 0, 1, 1]]])
        assert box.op.get_attr("seed") == 0 and box.op.get_attr("seed2") == 0


def test_sampler_falls_back_to_the_whole_image():
    with tf.Graph().as_default():
        # No crop of at most 10% of the image covers all of an object of 80% of it.
        fallback = tf.image.sample_distorted_bounding_box(
            [50, 60, 3], [[[0.1, 0.1, 0.9, 0.9]]], seed=1, min_object_covered=1.0,
            area_range=(0.05, 0.1), max_attempts=20)
        no_boxes = tf.image.sample_distorted_bounding_box(
            [50, 60, 3], np.zeros((1, 0, 4), np.float32), seed=2,
            use_image_if_no_bounding_boxes=True, min_object_covered=1.0)
        got = _run([fallback, no_boxes])
    begin, size, box = got[0]
    assert begin.tolist() == [0, 0, 0] and size.tolist() == [50, 60, -1]
    np.testing.assert_array_equal(box, [[[0, 0, 1, 1]]])
    # With the image as the only object and min_object_covered=1 the crop is the whole image.
    assert got[1][1].tolist() == [50, 60, -1]


def test_sampler_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Dimension"):
            tf.image.sample_distorted_bounding_box([10, 10], [[[0, 0, 1, 1]]])
        with pytest.raises(ValueError, match="rank 3"):
            tf.image.sample_distorted_bounding_box([10, 10, 3], [[0, 0, 1, 1]])
        with pytest.raises(ValueError, match="attempts"):
            tf.image.sample_distorted_bounding_box([10, 10, 3], [[[0, 0, 1, 1]]],
                                                   max_attempts=0)
        outside = tf.image.sample_distorted_bounding_box([10, 10, 3], [[[0, 0, 1.5, 1]]])
        empty = tf.image.sample_distorted_bounding_box([10, 10, 3],
                                                       np.zeros((1, 0, 4), np.float32))
        negative = tf.image.sample_distorted_bounding_box([10, 10, 3], [[[0, 0, 1, 1]]],
                                                          min_object_covered=-1.0)
        for fetch, match in ((outside, r"\[0.0, 1.0\]"), (empty, "No bounding boxes"),
                             (negative, "non-negative")):
            with pytest.raises(tf.errors.InvalidArgumentError, match=match):
                _run(fetch)


def test_sampler_of_a_fed_empty_or_negative_image_size():
    # TF returns the (empty) whole image with NaN box coordinates for a zero dimension, and
    # refuses a negative one; neither is a Python ZeroDivisionError.
    with tf.Graph().as_default():
        image_size = tf.placeholder(tf.int32, [3])
        sampled = tf.image.sample_distorted_bounding_box(image_size, [[[0, 0, 1, 1]]],
                                                         seed=3, min_object_covered=0.1)
        with tf.Session() as sess:
            begin, size, box = sess.run(sampled, {image_size: [4, 0, 3]})
            assert begin.tolist() == [0, 0, 0] and size.tolist() == [4, 0, -1]
            np.testing.assert_array_equal(box, [[[0, np.nan, 1, np.nan]]])
            _, size, box = sess.run(sampled, {image_size: [0, 0, 3]})
            assert size.tolist() == [0, 0, -1] and np.isnan(box).all()
            with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
                sess.run(sampled, {image_size: [-5, 4, 3]})


# ---- draw_bounding_boxes --------------------------------------------------------------------

DEFAULT_COLORS = [[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0.5, 0, 0.5, 1],
                  [0.5, 0.5, 0, 1], [0.5, 0, 0, 1], [0, 0, 0.5, 1], [0, 1, 1, 1], [1, 0, 1, 1]]


def _draw_reference(images, boxes, colors=DEFAULT_COLORS):
    canvas = images.copy()
    _, height, width, depth = images.shape
    for b in range(len(images)):
        for index, (ymin, xmin, ymax, xmax) in enumerate(boxes[b]):
            color = list(colors[index % len(colors)])
            if depth == 1:
                color = [1]
            color = np.array(color[:depth], images.dtype)
            rows = np.float32([ymin, ymax]) * np.float32(height - 1)
            cols = np.float32([xmin, xmax]) * np.float32(width - 1)
            (top, bottom), (left, right) = rows.astype(int), cols.astype(int)
            if top > bottom or left > right or top >= height or bottom < 0 or left >= width \
                    or right < 0:
                continue
            for row in range(max(top, 0), min(bottom, height - 1) + 1):
                for col in range(max(left, 0), min(right, width - 1) + 1):
                    if row in (top, bottom) or col in (left, right):
                        canvas[b, row, col] = color
    return canvas


# Image 0: the whole image, an inner box, one sticking out, an inverted one, and nine more
# (the colors cycle); image 1: a point, one wholly outside, a thin one and empty padding.
DRAW_BOXES = np.array([[[0, 0, 1, 1], [0.2, 0.1, 0.7, 0.6], [-0.3, 0.5, 0.4, 1.4],
                        [0.5, 0.5, 0.2, 0.9]]
                       + [[0.05 * i, 0.06 * i, 0.5 + 0.04 * i, 0.4 + 0.05 * i] for i in range(9)],
                       [[0.5, 0.5, 0.5, 0.5], [1.5, 0, 2, 1], [0.1, 0.3, 0.9, 0.35]]
                       + [[0.0, 0.0, 0.0, 0.0]] * 10], np.float32)


@pytest.mark.parametrize("depth", [1, 3, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_draw_bounding_boxes_matches_the_reference(depth, dtype):
    images = np.random.default_rng(depth).uniform(0, 1, (2, 7, 9, depth)).astype(dtype)
    colors = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]], np.float32)
    with tf.Graph().as_default():
        drawn = tf.image.draw_bounding_boxes(images, DRAW_BOXES)
        colored = tf.image.draw_bounding_boxes(images, DRAW_BOXES, colors=colors)
        assert drawn.op.type == "DrawBoundingBoxes"
        assert colored.op.type == "DrawBoundingBoxesV2"
        assert drawn.shape.as_list() == list(images.shape)
        got = _run([drawn, colored])
    np.testing.assert_array_equal(got[0], _draw_reference(images, DRAW_BOXES))
    np.testing.assert_array_equal(got[1], _draw_reference(images, DRAW_BOXES, colors))


def test_draw_bounding_boxes_by_hand():
    with tf.Graph().as_default():
        drawn = _run(tf.image.draw_bounding_boxes(
            tf.zeros([1, 5, 5, 3]), [[[0, 0, 1, 1], [0.25, 0.25, 0.75, 0.75]]]))
    yellow, blue = [1, 1, 0], [0, 0, 1]
    expected = np.zeros((5, 5, 3), np.float32)
    expected[[0, 4], :] = yellow
    expected[:, [0, 4]] = yellow
    expected[1:4, 1:4] = blue
    expected[2, 2] = 0  # the inner box's interior stays
    np.testing.assert_array_equal(drawn[0], expected)


def test_draw_bounding_boxes_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Channel depth"):
            tf.image.draw_bounding_boxes(np.zeros((1, 3, 3, 2), np.float32), [[[0, 0, 1, 1]]])
        with pytest.raises(ValueError, match="rank 4"):
            tf.image.draw_bounding_boxes(np.zeros((3, 3, 3), np.float32), [[[0, 0, 1, 1]]])
        images = tf.placeholder(tf.float32)
        drawn = tf.image.draw_bounding_boxes(images, [[[0, 0, 1, 1]]])
        with pytest.raises(tf.errors.InvalidArgumentError, match="Channel depth"):
            _run(drawn, {images: np.zeros((1, 3, 3, 2), np.float32)})
        with pytest.raises(tf.errors.InvalidArgumentError, match="rank"):
            _run(drawn, {images: np.zeros((3, 3, 3), np.float32)})


def test_draw_bounding_boxes_with_nan_or_far_coordinates_draws_as_tf():
    # TF's float-to-int64 cast turns NaN, infinities and huge values into INT64_MIN: a NaN
    # top leaves the box open at the top; a NaN or huge bottom inverts it (nothing drawn).
    images = np.zeros((1, 4, 4, 1), np.float32)
    with tf.Graph().as_default():
        boxes = tf.placeholder(tf.float32, [1, 1, 4])
        drawn = tf.image.draw_bounding_boxes(images, boxes)
        with tf.Session() as sess:
            def draw(box):
                return sess.run(drawn, {boxes: [[box]]})[0, :, :, 0]
            open_top = [[1, 0, 0, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]]
            np.testing.assert_array_equal(draw([np.nan, 0, 1, 1]), open_top)
            np.testing.assert_array_equal(draw([-np.inf, 0, 1, 1]), open_top)
            np.testing.assert_array_equal(draw([0, np.nan, 1, 1]),
                                          [[1, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 1],
                                           [1, 1, 1, 1]])
            for inverted in ([0, 0, np.nan, 1], [0, 0, 1e30, 1], [0, 0, 1, np.nan]):
                np.testing.assert_array_equal(draw(inverted), np.zeros((4, 4)))

"""Box ops of ``tf.image`` for detection and Inception-style preprocessing: non-max
suppression (hard and soft), ``crop_and_resize`` (with its two gradient ops),
``sample_distorted_bounding_box`` and ``draw_bounding_boxes``.

Each registration uses TF's op type name, so an imported GraphDef maps onto it, and names its
kernel (``runtime/kernels/image_box_kernels.py``); this module imports no kernel. Static shapes
are checked while the graph is built (ValueError), values when the op runs
(InvalidArgumentError), as TF does.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops

__all__ = ["non_max_suppression", "non_max_suppression_with_scores", "crop_and_resize",
           "sample_distorted_bounding_box", "draw_bounding_boxes"]

_NMS_FLOATS = (dtypes.float16, dtypes.float32)
_CROP_IMAGE_DTYPES = (dtypes.uint8, dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64,
                      dtypes.float16, dtypes.float32, dtypes.float64)
_GRAD_IMAGE_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)
_IMAGE_SIZE_DTYPES = (dtypes.uint8, dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64)
_DRAW_DTYPES = (dtypes.float16, dtypes.float32)


# ---- static shape checks --------------------------------------------------------------------

def _with_rank(op_type, tensor, rank, arg):
    shape = tensor.shape
    if shape.rank is not None and shape.rank != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {shape.rank} for "
                         f"'{op_type}' ({arg} of shape {shape})")
    return shape.with_rank(rank) if shape.rank is None else shape


def _dim_value(op_type, shape, axis, value, arg):
    if shape[axis] is not None and shape[axis] != value:
        raise ValueError(f"Dimension {axis} in both shapes must be equal, but are "
                         f"{shape[axis]} and {value} for '{op_type}' ({arg} of shape {shape})")


def _merged_dim(op_type, first, second):
    """The dimension that two dimensions which must agree give (None when neither is known)."""
    if first is not None and second is not None and first != second:
        raise ValueError(f"Dimensions must be equal, but are {first} and {second} for "
                         f"'{op_type}'")
    return first if first is not None else second


def _boxes_and_indices(op_type, boxes, indices, index_arg):
    """The static number of boxes of a [num_boxes, 4] box matrix and its [num_boxes] vector."""
    _infer.check_dtype(op_type, boxes, (dtypes.float32,), "boxes")
    _infer.check_dtype(op_type, indices, (dtypes.int32,), index_arg)
    box_shape = _with_rank(op_type, boxes, 2, "boxes")
    _dim_value(op_type, box_shape, 1, 4, "boxes")
    index_shape = _with_rank(op_type, indices, 1, index_arg)
    return _merged_dim(op_type, box_shape[0], index_shape[0])


def _scalar(op_type, tensor, arg):
    _with_rank(op_type, tensor, 0, arg)


# ---- non-max suppression --------------------------------------------------------------------

_PADDED_NMS = ("NonMaxSuppressionV4", "NonMaxSuppressionV5")


def _nms_infer(op_type):
    def infer(inputs, attrs):
        boxes, scores, max_output_size = inputs[:3]
        thresholds = inputs[3:]
        _infer.check_dtype(op_type, boxes, _NMS_FLOATS, "boxes")
        _infer.same_dtype(op_type, [boxes, scores], names=("boxes", "scores"))
        _infer.check_dtype(op_type, max_output_size, (dtypes.int32,), "max_output_size")
        if op_type == "NonMaxSuppression":
            attrs["iou_threshold"] = float(attrs.get("iou_threshold", 0.5))
            if not 0.0 <= attrs["iou_threshold"] <= 1.0:
                raise ValueError("iou_threshold must be in [0, 1]")
        else:
            attrs["T"] = boxes.dtype
        names = ("iou_threshold", "score_threshold", "soft_nms_sigma")
        for name, threshold in zip(names, thresholds):
            _infer.check_dtype(op_type, threshold, _NMS_FLOATS, name)
            _scalar(op_type, threshold, name)
        if op_type == "NonMaxSuppressionV3":
            attrs["T_threshold"] = thresholds[0].dtype
        box_shape = _with_rank(op_type, boxes, 2, "boxes")
        _dim_value(op_type, box_shape, 1, 4, "boxes")
        score_shape = _with_rank(op_type, scores, 1, "scores")
        _merged_dim(op_type, box_shape[0], score_shape[0])
        _scalar(op_type, max_output_size, "max_output_size")
        if op_type not in _PADDED_NMS:
            return [(dtypes.int32, TensorShape([None]))]
        # V4 and V5 take thresholds of the boxes' dtype and may pad their outputs to
        # max_output_size entries.
        _infer.same_dtype(op_type, [boxes] + list(thresholds), names=("boxes",) + names)
        attrs["pad_to_max_output_size"] = bool(attrs.get("pad_to_max_output_size", False))
        length = None
        if attrs["pad_to_max_output_size"]:
            known = _infer.folded_value(max_output_size)
            length = None if known is None else int(known)
        outputs = [(dtypes.int32, TensorShape([length]))]
        if op_type == "NonMaxSuppressionV5":
            outputs.append((boxes.dtype, TensorShape([length])))
        return outputs + [(dtypes.int32, TensorShape([]))]

    return infer


# V1 and V2 run different kernels only because TF has a GPU kernel for V2 to V4, not V1.
for _op_type, _thresholds, _kernel in (("NonMaxSuppression", 0, "NonMaxSuppression"),
                                       ("NonMaxSuppressionV2", 1, "NonMaxSuppressionV2"),
                                       ("NonMaxSuppressionV3", 2, "NonMaxSuppressionV2"),
                                       ("NonMaxSuppressionV4", 2, "NonMaxSuppressionV4"),
                                       ("NonMaxSuppressionV5", 3, "NonMaxSuppressionV4")):
    registry.register_op(_op_type, infer=_nms_infer(_op_type),
                         kernel=_kernel, num_inputs=3 + _thresholds,
                         gradient=registry.NOT_DIFFERENTIABLE,
                         doc="The indices of boxes kept by greedy non-max suppression.")


def non_max_suppression(boxes, scores, max_output_size, iou_threshold=0.5,
                        score_threshold=float("-inf"), name=None):
    """The indices of the boxes that greedy non-max suppression keeps
    (``tf.image.non_max_suppression``, op ``NonMaxSuppressionV3``).

    Boxes are taken by decreasing score (the lower index first among equal scores); a box is
    kept when its intersection over union with every box kept before it is at most
    `iou_threshold`, until `max_output_size` boxes are kept.

    Args:
      boxes: a float32 (or float16) ``[num_boxes, 4]`` Tensor of ``[y1, x1, y2, x2]`` corners
        (either diagonal pair).
      scores: a ``[num_boxes]`` Tensor of `boxes`' dtype.
      max_output_size: a scalar int32, the most boxes to keep.
      iou_threshold: a scalar float in [0, 1]: overlaps above this suppress.
      score_threshold: a scalar float: boxes scoring no more than this are dropped first.
      name: the name scope.

    Returns:
      An int32 vector of indices into `boxes`, at most `max_output_size` long.

    Raises:
      ValueError: for shapes that cannot be boxes and scores, or non-scalar thresholds.
    """
    with graph_lib.name_scope(name, "non_max_suppression", [boxes, scores, max_output_size]):
        boxes = graph_lib.convert_to_tensor(boxes, name="boxes")
        scores = graph_lib.convert_to_tensor(scores, name="scores")
        max_output_size = graph_lib.convert_to_tensor(max_output_size, dtype=dtypes.int32,
                                                      name="max_output_size")
        iou_threshold = graph_lib.convert_to_tensor(iou_threshold, dtype=dtypes.float32,
                                                    name="iou_threshold")
        score_threshold = graph_lib.convert_to_tensor(score_threshold, dtype=dtypes.float32,
                                                      name="score_threshold")
        graph = graph_lib.get_default_graph()
        return graph.create_op("NonMaxSuppressionV3",
                               [boxes, scores, max_output_size, iou_threshold,
                                score_threshold]).outputs[0]


def non_max_suppression_with_scores(boxes, scores, max_output_size, iou_threshold=0.5,
                                    score_threshold=float("-inf"), soft_nms_sigma=0.0,
                                    name=None):
    """The indices and scores of the boxes that (soft) non-max suppression keeps
    (``tf.image.non_max_suppression_with_scores``, op ``NonMaxSuppressionV5``).

    With `soft_nms_sigma` 0 this is `non_max_suppression`. Above 0 (Soft-NMS), a candidate
    is not dropped for overlapping a kept box: its score is scaled by
    ``exp(-iou**2 / (2 * soft_nms_sigma))`` and it competes again while it stays above
    `score_threshold`.

    Args:
      boxes: a float32 (or float16) ``[num_boxes, 4]`` Tensor of ``[y1, x1, y2, x2]`` corners.
      scores: a ``[num_boxes]`` Tensor of `boxes`' dtype.
      max_output_size: a scalar int32, the most boxes to keep.
      iou_threshold: a scalar in [0, 1] (hard suppression only).
      score_threshold: a scalar: boxes scoring no more than this are dropped.
      soft_nms_sigma: a scalar >= 0, the Soft-NMS sigma; 0 for hard suppression.
      name: the name scope.

    Returns:
      ``(selected_indices, selected_scores)``: an int32 vector and the kept boxes' (possibly
      reduced) scores, in selection order.

    Raises:
      ValueError: for shapes that cannot be boxes and scores, or non-scalar thresholds.
    """
    with graph_lib.name_scope(name, "non_max_suppression_with_scores",
                              [boxes, scores, max_output_size]):
        boxes = graph_lib.convert_to_tensor(boxes, name="boxes")
        scores = graph_lib.convert_to_tensor(scores, name="scores")
        max_output_size = graph_lib.convert_to_tensor(max_output_size, dtype=dtypes.int32,
                                                      name="max_output_size")
        thresholds = [graph_lib.convert_to_tensor(value, dtype=boxes.dtype, name=arg)
                      for value, arg in ((iou_threshold, "iou_threshold"),
                                         (score_threshold, "score_threshold"),
                                         (soft_nms_sigma, "soft_nms_sigma"))]
        op = graph_lib.get_default_graph().create_op(
            "NonMaxSuppressionV5", [boxes, scores, max_output_size] + thresholds,
            {"pad_to_max_output_size": False})
        return op.outputs[0], op.outputs[1]


# ---- crop_and_resize ------------------------------------------------------------------------

def _crop_attrs(op_type, attrs, methods=("bilinear", "nearest")):
    method = attrs.get("method", "bilinear")
    method = method.decode() if isinstance(method, bytes) else str(method)
    if method not in methods:
        raise ValueError(f"method must be {' or '.join(repr(m) for m in methods)}, got "
                         f"{method!r} for '{op_type}'")
    attrs["method"] = method


def _size_pair(op_type, size, arg):
    """The static (height, width) of a [2] int32 size vector (None where unknown)."""
    _infer.check_dtype(op_type, size, (dtypes.int32,), arg)
    shape = _with_rank(op_type, size, 1, arg)
    _dim_value(op_type, shape, 0, 2, arg)
    dims = _infer.shape_from_tensor(size)
    return tuple(dims.as_list()) if dims.rank == 2 else (None, None)


def _crop_and_resize_infer(inputs, attrs):
    image, boxes, box_index, crop_size = inputs
    _infer.check_dtype("CropAndResize", image, _CROP_IMAGE_DTYPES, "image")
    attrs["T"] = image.dtype
    _crop_attrs("CropAndResize", attrs)
    attrs["extrapolation_value"] = float(attrs.get("extrapolation_value", 0.0))
    image_shape = _with_rank("CropAndResize", image, 4, "image")
    num_boxes = _boxes_and_indices("CropAndResize", boxes, box_index, "box_ind")
    height, width = _size_pair("CropAndResize", crop_size, "crop_size")
    return [(dtypes.float32, TensorShape([num_boxes, height, width, image_shape[3]]))]


def _crop_grad_image_infer(inputs, attrs):
    grads, boxes, box_index, image_size = inputs
    _infer.check_dtype("CropAndResizeGradImage", grads, (dtypes.float32,), "grads")
    out_dtype = dtypes.as_dtype(attrs["T"])
    if out_dtype not in _GRAD_IMAGE_DTYPES:
        raise TypeError(f"Value for attr 'T' of {out_dtype.name} is not in the list of "
                        "allowed values: float16, float32, float64 for "
                        "'CropAndResizeGradImage'")
    attrs["T"] = out_dtype
    _crop_attrs("CropAndResizeGradImage", attrs)
    grad_shape = _with_rank("CropAndResizeGradImage", grads, 4, "grads")
    num_boxes = _boxes_and_indices("CropAndResizeGradImage", boxes, box_index, "box_ind")
    _merged_dim("CropAndResizeGradImage", grad_shape[0], num_boxes)
    _infer.check_dtype("CropAndResizeGradImage", image_size, (dtypes.int32,), "image_size")
    size_shape = _with_rank("CropAndResizeGradImage", image_size, 1, "image_size")
    _dim_value("CropAndResizeGradImage", size_shape, 0, 4, "image_size")
    return [(out_dtype, _infer.shape_from_tensor(image_size))]


def _crop_grad_boxes_infer(inputs, attrs):
    grads, image, boxes, box_index = inputs
    _infer.check_dtype("CropAndResizeGradBoxes", grads, (dtypes.float32,), "grads")
    _infer.check_dtype("CropAndResizeGradBoxes", image, _CROP_IMAGE_DTYPES, "image")
    attrs["T"] = image.dtype
    _crop_attrs("CropAndResizeGradBoxes", attrs, methods=("bilinear",))
    grad_shape = _with_rank("CropAndResizeGradBoxes", grads, 4, "grads")
    _with_rank("CropAndResizeGradBoxes", image, 4, "image")
    num_boxes = _boxes_and_indices("CropAndResizeGradBoxes", boxes, box_index, "box_ind")
    num_boxes = _merged_dim("CropAndResizeGradBoxes", grad_shape[0], num_boxes)
    return [(dtypes.float32, TensorShape([num_boxes, 4]))]


def _image_shape_vector(image):
    if image.shape.is_fully_defined():
        return array_ops.constant(image.shape.as_list(), dtype=dtypes.int32)
    return array_ops.shape(image, out_type=dtypes.int32)


def _crop_and_resize_grad(op, grad):
    image, boxes, box_index, _ = op.inputs
    graph = graph_lib.get_default_graph()
    # Integer images are data, not parameters: no gradient, as TF.
    image_grad = None
    if image.dtype in _GRAD_IMAGE_DTYPES:
        image_grad = graph.create_op(
            "CropAndResizeGradImage", [grad, boxes, box_index, _image_shape_vector(image)],
            {"T": image.dtype, "method": op.get_attr("method")}).outputs[0]
    # With nearest sampling the boxes' gradient is not defined; TF approximates it by the
    # bilinear one, and so do we.
    boxes_grad = graph.create_op("CropAndResizeGradBoxes", [grad, image, boxes, box_index],
                                 {"method": "bilinear"}).outputs[0]
    return [image_grad, boxes_grad, None, None]


registry.register_op("CropAndResize", infer=_crop_and_resize_infer, num_inputs=4,
                     gradient=_crop_and_resize_grad,
                     doc="Boxes of a batch of images, each resized to crop_size (float32).")
registry.register_op("CropAndResizeGradImage", infer=_crop_grad_image_infer, num_inputs=4,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The gradient of CropAndResize with respect to the image.")
registry.register_op("CropAndResizeGradBoxes", infer=_crop_grad_boxes_infer, num_inputs=4,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The gradient of CropAndResize with respect to the boxes.")


def crop_and_resize(image, boxes, box_ind=None, crop_size=None, method="bilinear",
                    extrapolation_value=0, name=None, box_indices=None):
    """Crops of `image` at `boxes`, each resized to `crop_size` (``tf.image.crop_and_resize``,
    op ``CropAndResize``).

    Box ``[y1, x1, y2, x2]`` in normalized coordinates maps ``y1`` to ``y1 * (height - 1)``;
    ``y1 > y2`` flips the crop, and samples outside the image take `extrapolation_value`.

    Args:
      image: a 4-D real Tensor ``[batch, height, width, depth]`` (height, width > 0).
      boxes: a float32 ``[num_boxes, 4]`` Tensor.
      box_ind: an int32 ``[num_boxes]`` Tensor: the image of each box, in ``[0, batch)``.
      crop_size: an int32 ``[crop_height, crop_width]`` (both > 0).
      method: ``"bilinear"`` or ``"nearest"``.
      extrapolation_value: the value of samples outside the image.
      name: the op name.
      box_indices: TF 2's name of `box_ind`.

    Returns:
      A float32 Tensor ``[num_boxes, crop_height, crop_width, depth]``.

    Raises:
      ValueError: for shapes that do not fit, or an unknown method.
    """
    if box_ind is None:
        box_ind = box_indices
    elif box_indices is not None:
        raise ValueError("Give box_ind or box_indices, not both")
    if box_ind is None or crop_size is None:
        raise ValueError("crop_and_resize needs box_ind and crop_size")
    with graph_lib.name_scope(name, "CropAndResize", [image, boxes, box_ind]) as scope:
        image = graph_lib.convert_to_tensor(image, name="image")
        boxes = graph_lib.convert_to_tensor(boxes, dtype=dtypes.float32, name="boxes")
        box_ind = graph_lib.convert_to_tensor(box_ind, dtype=dtypes.int32, name="box_ind")
        crop_size = graph_lib.convert_to_tensor(crop_size, dtype=dtypes.int32,
                                                name="crop_size")
        return graph_lib.get_default_graph().create_op(
            "CropAndResize", [image, boxes, box_ind, crop_size],
            {"method": method, "extrapolation_value": float(extrapolation_value)},
            name=scope).outputs[0]


# ---- sample_distorted_bounding_box ----------------------------------------------------------

def _float_pair(op_type, attrs, name, default):
    value = attrs.get(name)
    value = default if value is None else [float(v) for v in value]
    if len(value) != 2:
        raise ValueError(f"Attr '{name}' of '{op_type}' must have 2 values, got {value}")
    attrs[name] = value


def _sample_box_infer(inputs, attrs):
    op_type = "SampleDistortedBoundingBoxV2"
    image_size, bounding_boxes, min_object_covered = inputs
    _infer.check_dtype(op_type, image_size, _IMAGE_SIZE_DTYPES, "image_size")
    _infer.check_dtype(op_type, bounding_boxes, (dtypes.float32,), "bounding_boxes")
    _infer.check_dtype(op_type, min_object_covered, (dtypes.float32,), "min_object_covered")
    attrs["T"] = image_size.dtype
    attrs["seed"] = int(attrs.get("seed") or 0)
    attrs["seed2"] = int(attrs.get("seed2") or 0)
    max_attempts = attrs.get("max_attempts")
    attrs["max_attempts"] = 100 if max_attempts is None else int(max_attempts)
    if attrs["max_attempts"] <= 0:
        raise ValueError(f"Max attempts must be > 0, got {attrs['max_attempts']}")
    _float_pair(op_type, attrs, "aspect_ratio_range", [0.75, 1.33])
    _float_pair(op_type, attrs, "area_range", [0.05, 1.0])
    attrs["use_image_if_no_bounding_boxes"] = bool(
        attrs.get("use_image_if_no_bounding_boxes") or False)
    size_shape = _with_rank(op_type, image_size, 1, "image_size")
    _dim_value(op_type, size_shape, 0, 3, "image_size")
    box_shape = _with_rank(op_type, bounding_boxes, 3, "bounding_boxes")
    _dim_value(op_type, box_shape, 2, 4, "bounding_boxes")
    _scalar(op_type, min_object_covered, "min_object_covered")
    return [(image_size.dtype, TensorShape([3])), (image_size.dtype, TensorShape([3])),
            (dtypes.float32, TensorShape([1, 1, 4]))]


registry.register_op("SampleDistortedBoundingBoxV2", infer=_sample_box_infer, num_inputs=3,
                     stateful=True, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A random crop window that covers enough of some bounding box.")


def sample_distorted_bounding_box(image_size, bounding_boxes, seed=None, seed2=None,
                                  min_object_covered=0.1, aspect_ratio_range=None,
                                  area_range=None, max_attempts=None,
                                  use_image_if_no_bounding_boxes=None, name=None):
    """A random crop of an image that covers enough of one of its bounding boxes
    (``tf.compat.v1.image.sample_distorted_bounding_box``, op ``SampleDistortedBoundingBoxV2``).

    As TF 1, `seed` and `seed2` go to the op as they are (the graph seed plays no part):
    with both unset (0) each session draws from a new OS-seeded stream. Each run of the op
    draws a new crop.

    Args:
      image_size: an integer ``[height, width, channels]`` vector.
      bounding_boxes: a float32 ``[batch, num_boxes, 4]`` Tensor of ``[ymin, xmin, ymax,
        xmax]`` boxes in [0, 1], whichever batch entry they come from.
      seed: the first seed of the op's random stream.
      seed2: the second seed.
      min_object_covered: a float scalar: the crop must cover at least this fraction of some
        box.
      aspect_ratio_range: the [min, max] width / height of the crop (default [0.75, 1.33]).
      area_range: the [min, max] fraction of the image's area the crop covers (default
        [0.05, 1]).
      max_attempts: how many crops to draw before falling back to the whole image (100).
      use_image_if_no_bounding_boxes: take the whole image as the box when none is given.
      name: the name scope.

    Returns:
      ``(begin, size, bboxes)``: `begin` ``[offset_y, offset_x, 0]`` and `size`
      ``[height, width, -1]`` for ``tf.slice``, of `image_size`'s dtype, and the crop as a
      float32 ``[1, 1, 4]`` box in [0, 1].

    Raises:
      ValueError: for shapes that do not fit or `max_attempts` < 1.
    """
    # As TF, the op sits in the scope and takes `name` too: "name/name".
    with graph_lib.name_scope(name, "sample_distorted_bounding_box",
                              [image_size, bounding_boxes]):
        image_size = graph_lib.convert_to_tensor(image_size, name="image_size")
        bounding_boxes = graph_lib.convert_to_tensor(bounding_boxes, dtype=dtypes.float32,
                                                     name="bounding_boxes")
        min_object_covered = graph_lib.convert_to_tensor(
            min_object_covered, dtype=dtypes.float32, name="min_object_covered")
        attrs = {"seed": seed or 0, "seed2": seed2 or 0,
                 "aspect_ratio_range": aspect_ratio_range, "area_range": area_range,
                 "max_attempts": max_attempts,
                 "use_image_if_no_bounding_boxes": use_image_if_no_bounding_boxes}
        op = graph_lib.get_default_graph().create_op(
            "SampleDistortedBoundingBoxV2", [image_size, bounding_boxes, min_object_covered],
            attrs, name=name)
        return tuple(op.outputs)


# ---- draw_bounding_boxes --------------------------------------------------------------------

def _draw_infer(op_type):
    def infer(inputs, attrs):
        images, boxes = inputs[:2]
        _infer.check_dtype(op_type, images, _DRAW_DTYPES, "images")
        _infer.check_dtype(op_type, boxes, (dtypes.float32,), "boxes")
        attrs["T"] = images.dtype
        shape = _with_rank(op_type, images, 4, "images")
        if shape[3] not in (None, 1, 3, 4):
            raise ValueError(f"Channel depth should be either 1 (GRY), 3 (RGB), or 4 (RGBA) "
                             f"for '{op_type}' (images of shape {shape})")
        if len(inputs) == 3:
            _infer.check_dtype(op_type, inputs[2], (dtypes.float32,), "colors")
        return [(images.dtype, shape)]

    return infer


registry.register_op("DrawBoundingBoxes", infer=_draw_infer("DrawBoundingBoxes"),
                     kernel="DrawBoundingBoxes", num_inputs=2,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Images with box outlines drawn in TF's default color cycle.")
registry.register_op("DrawBoundingBoxesV2", infer=_draw_infer("DrawBoundingBoxesV2"),
                     kernel="DrawBoundingBoxes", num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Images with box outlines drawn in the given color cycle.")


def draw_bounding_boxes(images, boxes, name=None, colors=None):
    """`images` with the outlines of `boxes` drawn on them (``tf.image.draw_bounding_boxes``,
    op ``DrawBoundingBoxes``, or ``DrawBoundingBoxesV2`` with `colors`).

    Box ``[y_min, x_min, y_max, x_max]`` in [0, 1] maps ``y_min`` to row
    ``int(y_min * (height - 1))``; box ``i`` of an image takes color ``i`` of the color cycle.

    Args:
      images: a float32 (or float16) ``[batch, height, width, depth]`` Tensor, depth 1, 3 or
        4.
      boxes: a float32 ``[batch, num_boxes, 4]`` Tensor.
      name: the op name.
      colors: an optional float32 ``[num_colors, 4]`` color cycle (RGBA); TF's ten default
        colors when None.

    Returns:
      A Tensor of `images`' dtype and shape.

    Raises:
      ValueError: for images that are not 4-D or have another depth than 1, 3 or 4.
    """
    # No name scope: TF names the op itself `name` (or its type).
    graph = math_ops._find_graph((images, boxes))
    with graph.as_default():
        images = graph_lib.convert_to_tensor(images, name="images")
        boxes = graph_lib.convert_to_tensor(boxes, dtype=dtypes.float32, name="boxes")
        inputs, op_type = [images, boxes], "DrawBoundingBoxes"
        if colors is not None:
            inputs.append(graph_lib.convert_to_tensor(colors, dtype=dtypes.float32,
                                                      name="colors"))
            op_type = "DrawBoundingBoxesV2"
        return graph.create_op(op_type, inputs, name=name).outputs[0]

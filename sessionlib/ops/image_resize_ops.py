"""Image resizing: ``ResizeBilinear`` and ``ResizeNearestNeighbor`` with their gradient ops,
and TF 1's ``tf.image.resize_images`` over them.

Both ops map output pixel ``i`` to input coordinate ``i * scale`` with ``scale = in / out``
(``(in - 1) / (out - 1)`` with ``align_corners``): TF 1's legacy mapping, which is the default
(``half_pixel_centers=False``); ``half_pixel_centers=True`` samples at pixel centers, as TF 2.
Each registration names its kernel (``runtime/kernels/image_kernels.py``); this module imports
no kernel.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops

__all__ = ["ResizeMethod", "resize_images", "resize", "resize_bilinear",
           "resize_nearest_neighbor"]

_REAL = (dtypes.int8, dtypes.uint8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.float16,
         dtypes.float32, dtypes.float64)
_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)
_NEAREST_GRAD = (dtypes.uint8, dtypes.int8, dtypes.int32, dtypes.float16, dtypes.float32,
                 dtypes.float64)


class ResizeMethod:
    """The ``method`` values of TF 1's ``resize_images`` (``tf.compat.v1.image.ResizeMethod``).

    BICUBIC and AREA are the ops of ``image_resize_extra_ops.py``.
    """

    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


# ---- registrations --------------------------------------------------------------------------

def _resize_attrs(attrs):
    # align_corners with half_pixel_centers is refused by the kernel, when the op runs, as TF.
    attrs["align_corners"] = bool(attrs.get("align_corners", False))
    attrs["half_pixel_centers"] = bool(attrs.get("half_pixel_centers", False))


def _images_4d(op_type, tensor, arg):
    if tensor.shape.rank not in (None, 4):
        raise ValueError(f"Shape must be rank 4 but is rank {tensor.shape.rank} for "
                         f"'{op_type}' ({arg} of shape {tensor.shape})")
    return tensor.shape.with_rank(4) if tensor.shape.rank is None else tensor.shape


def _size_dims(op_type, size):
    """The static (height, width) of a size tensor: ints, or None where unknown."""
    if size.dtype is not dtypes.int32:
        raise TypeError(f"Value passed to parameter 'size' has DataType {size.dtype.name} not "
                        f"in list of allowed values: int32 for '{op_type}'")
    if size.shape.rank not in (None, 1) or (size.shape.rank == 1
                                            and size.shape[0] not in (None, 2)):
        raise ValueError(f"Shape of 'size' must be [2] but is {size.shape} for '{op_type}'")
    dims = _infer.shape_from_tensor(size)
    if dims.rank is None:
        return None, None
    # Sizes <= 0 fail when the op runs, as TF.
    height, width = dims.as_list()
    return height, width


def _resize_infer(op_type, out_dtype):
    def infer(inputs, attrs):
        images, size = inputs
        _infer.check_dtype(op_type, images, _REAL, "images")
        _resize_attrs(attrs)
        attrs["T"] = images.dtype
        shape = _images_4d(op_type, images, "images")
        height, width = _size_dims(op_type, size)
        dtype = out_dtype or images.dtype
        return [(dtype, TensorShape([shape[0], height, width, shape[3]]))]

    return infer


def _interpolation_grad_infer(op_type):
    """The infer function of an interpolating resize's gradient op (float32 `grads` and the
    original image, whose dtype and size the gradient takes)."""
    def infer(inputs, attrs):
        grads, original = inputs
        _infer.check_dtype(op_type, grads, (dtypes.float32,), "grads")
        _infer.check_dtype(op_type, original, _FLOATS, "original_image")
        _resize_attrs(attrs)
        attrs["T"] = original.dtype
        grads_shape = _images_4d(op_type, grads, "grads")
        shape = _images_4d(op_type, original, "original_image")
        return [(original.dtype,
                 TensorShape([grads_shape[0], shape[1], shape[2], grads_shape[3]]))]

    return infer


_resize_bilinear_grad_infer = _interpolation_grad_infer("ResizeBilinearGrad")


def _resize_nearest_grad_infer(inputs, attrs):
    grads, size = inputs
    _infer.check_dtype("ResizeNearestNeighborGrad", grads, _NEAREST_GRAD, "grads")
    _resize_attrs(attrs)
    attrs["T"] = grads.dtype
    shape = _images_4d("ResizeNearestNeighborGrad", grads, "grads")
    height, width = _size_dims("ResizeNearestNeighborGrad", size)
    return [(grads.dtype, TensorShape([shape[0], height, width, shape[3]]))]


def _mapping_attrs(op):
    return {"align_corners": op.get_attr("align_corners"),
            "half_pixel_centers": op.get_attr("half_pixel_centers")}


def _create(op_type, inputs, attrs):
    return graph_lib.get_default_graph().create_op(op_type, inputs, attrs).outputs[0]


def _height_width(tensor):
    """`tensor`'s [height, width] as an int32 vector: a constant where static."""
    dims = tensor.shape[1:3]
    if dims.is_fully_defined():
        return array_ops.constant(dims.as_list(), dtype=dtypes.int32)
    return array_ops.shape(tensor)[1:3]


def _resize_bilinear_grad(op, grad):
    # Only float images get a gradient, as TF: an integer image is data, not a parameter.
    images = op.inputs[0]
    if not images.dtype.is_floating:
        return [None, None]
    return [_create("ResizeBilinearGrad", [grad, images], _mapping_attrs(op)), None]


def _resize_bilinear_grad_grad(op, grad):
    # ResizeBilinearGrad is linear in `grads`, and its adjoint is ResizeBilinear itself, to
    # the size of `grads`.
    grads = op.inputs[0]
    resized = _create("ResizeBilinear", [grad, _height_width(grads)], _mapping_attrs(op))
    return [math_ops.cast(resized, grads.dtype), None]


def _resize_nearest_grad(op, grad):
    images = op.inputs[0]
    return [_create("ResizeNearestNeighborGrad", [grad, _height_width(images)],
                    _mapping_attrs(op)), None]


def _resize_nearest_grad_grad(op, grad):
    # The adjoint of the scatter-add is the gather that ResizeNearestNeighbor does.
    grads = op.inputs[0]
    return [_create("ResizeNearestNeighbor", [grad, _height_width(grads)], _mapping_attrs(op)),
            None]


registry.register_op("ResizeBilinear", infer=_resize_infer("ResizeBilinear", dtypes.float32),
                     num_inputs=2, gradient=_resize_bilinear_grad,
                     doc="Images resized by bilinear interpolation (float32 out).")
registry.register_op("ResizeBilinearGrad", infer=_resize_bilinear_grad_infer, num_inputs=2,
                     gradient=_resize_bilinear_grad_grad,
                     doc="The gradient of ResizeBilinear, to the original image's shape.")
registry.register_op("ResizeNearestNeighbor",
                     infer=_resize_infer("ResizeNearestNeighbor", None), num_inputs=2,
                     gradient=_resize_nearest_grad,
                     doc="Images resized by picking the nearest input pixel.")
registry.register_op("ResizeNearestNeighborGrad", infer=_resize_nearest_grad_infer,
                     num_inputs=2, gradient=_resize_nearest_grad_grad,
                     doc="The gradient of ResizeNearestNeighbor: sums into the input pixels.")


# ---- public functions -----------------------------------------------------------------------

def _resize_op(op_type, images, size, align_corners, half_pixel_centers, name):
    graph = math_ops._find_graph((images, size))
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        images = graph_lib.convert_to_tensor(images, name="images")
        size = graph_lib.convert_to_tensor(size, dtype=dtypes.int32, name="size")
        return graph.create_op(op_type, [images, size],
                               {"align_corners": align_corners,
                                "half_pixel_centers": half_pixel_centers},
                               name=scope).outputs[0]


def resize_bilinear(images, size, align_corners=False, name=None, half_pixel_centers=False):
    """A batch of images resized to `size` by bilinear interpolation (op ``ResizeBilinear``).

    Args:
      images: a 4-D real Tensor ``[batch, height, width, channels]``.
      size: an int32 vector ``[new_height, new_width]`` (both > 0).
      align_corners: map the corner pixels of input and output onto each other.
      name: the op name.
      half_pixel_centers: sample at pixel centers (TF 2's mapping) instead of TF 1's corners.

    Returns:
      A float32 Tensor ``[batch, new_height, new_width, channels]``.

    Raises:
      ValueError: for images that are not 4-D, a size that is not 2 positive entries, or both
        `align_corners` and `half_pixel_centers`.
    """
    return _resize_op("ResizeBilinear", images, size, align_corners, half_pixel_centers, name)


def resize_nearest_neighbor(images, size, align_corners=False, name=None,
                            half_pixel_centers=False):
    """A batch of images resized to `size` by taking the nearest input pixel
    (op ``ResizeNearestNeighbor``).

    Args:
      images: a 4-D real Tensor ``[batch, height, width, channels]``.
      size: an int32 vector ``[new_height, new_width]`` (both > 0).
      align_corners: map the corner pixels of input and output onto each other (and round to
        the nearest pixel rather than flooring).
      name: the op name.
      half_pixel_centers: sample at pixel centers (TF 2's mapping) instead of TF 1's corners.

    Returns:
      A Tensor of `images`' dtype, ``[batch, new_height, new_width, channels]``.

    Raises:
      ValueError: as `resize_bilinear`.
    """
    return _resize_op("ResizeNearestNeighbor", images, size, align_corners, half_pixel_centers,
                      name)


def _round_half_to_even(value):
    """float32 `value` rounded to the nearest integer, ties to even (TF's ``round``)."""
    floor = math_ops.floordiv(value, 1.0)
    fraction = value - floor
    odd = math_ops.equal(math_ops.mod(floor, 2.0), 1.0)
    up = math_ops.logical_or(math_ops.greater(fraction, 0.5),
                             math_ops.logical_and(math_ops.equal(fraction, 0.5), odd))
    return floor + math_ops.cast(up, dtypes.float32)


def _aspect_preserving_size(images, size):
    """The largest size within `size` with `images`' aspect ratio, as TF rounds it."""
    height, width = images.shape[1], images.shape[2]
    known = _infer.folded_value(size)
    if known is not None and height is not None and width is not None:
        scale = min(np.float32(known[0]) / np.float32(height),
                    np.float32(known[1]) / np.float32(width))
        return array_ops.constant([int(np.round(scale * np.float32(height))),
                                   int(np.round(scale * np.float32(width)))], dtype=dtypes.int32)
    dims = math_ops.cast(array_ops.shape(images)[1:3], dtypes.float32)
    scale = math_ops.reduce_min(math_ops.cast(size, dtypes.float32) / dims)
    return math_ops.cast(_round_half_to_even(scale * dims), dtypes.int32, name="size")


def resize_images(images, size, method=ResizeMethod.BILINEAR, align_corners=False,
                  preserve_aspect_ratio=False, name=None):
    """Images resized to `size` by `method` (TF 1's ``tf.image.resize_images``).

    Args:
      images: a 3-D image ``[height, width, channels]`` or 4-D batch, of static rank.
      size: an int32 vector ``[new_height, new_width]``.
      method: ``ResizeMethod.BILINEAR`` (float32 out) or ``ResizeMethod.NEAREST_NEIGHBOR``
        (dtype kept); TF 2's names ``"bilinear"`` and ``"nearest"`` are taken too.
      align_corners: map the corner pixels of input and output onto each other.
      preserve_aspect_ratio: resize to the largest size within `size` that keeps the aspect
        ratio.
      name: the name scope.

    Returns:
      The resized images; `images` itself (any dtype) when their static size is `size`.

    Raises:
      ValueError: for images of unknown rank or a rank other than 3 or 4, a `size` that is not
        2 int32 entries, or a method other than bilinear and nearest neighbor.
    """
    with graph_lib.name_scope(name, "resize", [images, size]):
        images = graph_lib.convert_to_tensor(images, name="images")
        rank = images.shape.rank
        if rank is None:
            raise ValueError("'images' contains no shape.")
        if rank not in (3, 4):
            raise ValueError("'images' must have either 3 or 4 dimensions.")
        is_batch = rank == 4
        if not is_batch:
            images = array_ops.expand_dims(images, 0)
        try:
            size = graph_lib.convert_to_tensor(size, dtype=dtypes.int32, name="size")
        except (TypeError, ValueError):
            raise ValueError("'size' must be a 1-D int32 Tensor") from None
        if not size.shape.is_compatible_with([2]):
            raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
        if method in (ResizeMethod.BILINEAR, "bilinear"):
            op_type = "ResizeBilinear"
        elif method in (ResizeMethod.NEAREST_NEIGHBOR, "nearest"):
            op_type = "ResizeNearestNeighbor"
        elif method in (ResizeMethod.BICUBIC, "bicubic"):
            op_type = "ResizeBicubic"   # registered by image_resize_extra_ops
        elif method in (ResizeMethod.AREA, "area"):
            op_type = "ResizeArea"
        else:
            raise ValueError(f"Resize method is not implemented: {method} (sessionlib has "
                             "BILINEAR, NEAREST_NEIGHBOR, BICUBIC and AREA)")
        if preserve_aspect_ratio:
            size = _aspect_preserving_size(images, size)
        dims = _infer.shape_from_tensor(size)
        new_height, new_width = dims.as_list() if dims.rank == 2 else (None, None)
        height, width = images.shape[1], images.shape[2]
        # As TF, an aspect-preserving size is never taken for "the same size": the images are
        # resized (and a bilinear resize gives float32) even when the size comes out unchanged.
        if not preserve_aspect_ratio and None not in (new_height, new_width, height, width) and (
                (new_height, new_width) == (height, width)):
            return images if is_batch else array_ops.squeeze(images, axis=[0])
        resized = _resize_op(op_type, images, size, align_corners, False, None)
        resized.set_shape([None, new_height, new_width, None])
        return resized if is_batch else array_ops.squeeze(resized, axis=[0])


resize = resize_images

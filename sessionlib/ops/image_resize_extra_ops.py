"""``ResizeBicubic`` (with ``ResizeBicubicGrad``) and ``ResizeArea``: TF 1's
``tf.image.resize_bicubic`` and ``tf.image.resize_area``.

The ops share ``ResizeBilinear``'s mapping of output to input pixels (``image_resize_ops.py``);
ResizeArea has no ``half_pixel_centers`` attr and no gradient, as in TF. Kernels:
``runtime/kernels/image_resize_extra_kernels.py``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, math_ops
from sessionlib.ops.image_resize_ops import (_REAL, _create, _height_width, _images_4d,
                                             _interpolation_grad_infer, _mapping_attrs,
                                             _resize_infer, _resize_op, _size_dims)

__all__ = ["resize_bicubic", "resize_area"]


def _resize_area_infer(inputs, attrs):
    images, size = inputs
    _infer.check_dtype("ResizeArea", images, _REAL, "images")
    attrs["align_corners"] = bool(attrs.get("align_corners", False))
    # resize_images passes every resize op this attr; TF's ResizeArea has none.
    attrs.pop("half_pixel_centers", None)
    attrs["T"] = images.dtype
    shape = _images_4d("ResizeArea", images, "images")
    height, width = _size_dims("ResizeArea", size)
    return [(dtypes.float32, TensorShape([shape[0], height, width, shape[3]]))]


def _resize_bicubic_grad(op, grad):
    # Only float images get a gradient, as TF.
    images = op.inputs[0]
    if not images.dtype.is_floating:
        return [None, None]
    return [_create("ResizeBicubicGrad", [grad, images], _mapping_attrs(op)), None]


def _resize_bicubic_grad_grad(op, grad):
    # ResizeBicubicGrad is linear in `grads`; its adjoint is ResizeBicubic to their size.
    grads = op.inputs[0]
    resized = _create("ResizeBicubic", [grad, _height_width(grads)], _mapping_attrs(op))
    return [math_ops.cast(resized, grads.dtype), None]


registry.register_op("ResizeBicubic", infer=_resize_infer("ResizeBicubic", dtypes.float32),
                     num_inputs=2, gradient=_resize_bicubic_grad,
                     doc="Images resized by bicubic interpolation (float32 out).")
registry.register_op("ResizeBicubicGrad", infer=_interpolation_grad_infer("ResizeBicubicGrad"),
                     num_inputs=2,
                     gradient=_resize_bicubic_grad_grad,
                     doc="The gradient of ResizeBicubic, to the original image's shape.")
registry.register_op("ResizeArea", infer=_resize_area_infer, num_inputs=2,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Images resized by averaging the input area under each output pixel.")


def resize_bicubic(images, size, align_corners=False, name=None, half_pixel_centers=False):
    """A batch of images resized to `size` by bicubic interpolation (op ``ResizeBicubic``).

    Args:
      images: a 4-D real Tensor ``[batch, height, width, channels]``.
      size: an int32 vector ``[new_height, new_width]`` (both > 0).
      align_corners: map the corner pixels of input and output onto each other.
      name: the op name.
      half_pixel_centers: sample at pixel centers (with Keys' cubic, as TF).

    Returns:
      A float32 Tensor ``[batch, new_height, new_width, channels]``.

    Raises:
      ValueError: for images that are not 4-D or a size that is not 2 entries.
    """
    return _resize_op("ResizeBicubic", images, size, align_corners, half_pixel_centers, name)


def resize_area(images, size, align_corners=False, name=None):
    """A batch of images resized to `size` by area averaging (op ``ResizeArea``).

    Args:
      images: a 4-D real Tensor ``[batch, height, width, channels]``.
      size: an int32 vector ``[new_height, new_width]`` (both > 0).
      align_corners: map the corner pixels of input and output onto each other.
      name: the op name.

    Returns:
      A float32 Tensor ``[batch, new_height, new_width, channels]``.

    Raises:
      ValueError: for images that are not 4-D or a size that is not 2 entries.
    """
    graph = math_ops._find_graph((images, size))
    with graph.as_default(), graph.name_scope(name or "ResizeArea") as scope:
        images = graph_lib.convert_to_tensor(images, name="images")
        size = graph_lib.convert_to_tensor(size, dtype=dtypes.int32, name="size")
        return graph.create_op("ResizeArea", [images, size],
                               {"align_corners": bool(align_corners)}, name=scope).outputs[0]

"""TF 1's ``tf.image`` functions that are compositions of existing ops: quality metrics (PSNR,
SSIM, total variation), gradients and Sobel edges, the YIQ/YUV color spaces, aspect-preserving
resizing with padding, and ``is_jpeg``.

Design. TF defines all of these in Python over convolutions, reductions and slicing; they are
built the same way here, so they need no kernels and their gradients come from the ops they
use. Constants (color matrices, Sobel and Gaussian filters) are TF's values.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.ops import array_ops, manipulation_ops, math_ops
from sessionlib.ops import nn_convolution_ops as conv_ops
from sessionlib.ops.image_ops import convert_image_dtype, pad_to_bounding_box
from sessionlib.ops.image_resize_ops import ResizeMethod, resize_images
from sessionlib.ops.nn import relu, softmax
from sessionlib.ops.string_ops import substr

__all__ = ["psnr", "ssim", "ssim_multiscale", "total_variation", "image_gradients",
           "sobel_edges", "rgb_to_yiq",
           "yiq_to_rgb", "rgb_to_yuv", "yuv_to_rgb", "resize_image_with_pad", "is_jpeg"]


# ---- quality metrics -------------------------------------------------------------------------

def _float_images(first, second, max_val):
    """The two images and `max_val` as float32, integer images scaled to [0, 1] as TF does."""
    first = graph_lib.convert_to_tensor(first, name="img1")
    second = graph_lib.convert_to_tensor(second, name="img2")
    max_val = convert_image_dtype(math_ops.cast(max_val, first.dtype), dtypes.float32)
    return (convert_image_dtype(first, dtypes.float32),
            convert_image_dtype(second, dtypes.float32), max_val)


def psnr(a, b, max_val, name=None):
    """The peak signal-to-noise ratio between two images, in dB (``tf.image.psnr``).

    Args:
      a, b: images ``[..., height, width, channels]`` of one dtype (ints are converted to
        floats in [0, 1] first, as `max_val` is).
      max_val: the dynamic range (e.g. 255 or 1.0).
      name: the op name.

    Returns:
      float32 PSNR values of shape ``a.shape[:-3]``.
    """
    with graph_lib.name_scope(name, "PSNR", [a, b]):
        a, b, max_val = _float_images(a, b, max_val)
        mse = math_ops.reduce_mean(math_ops.squared_difference(a, b), [-3, -2, -1])
        return math_ops.subtract(
            20.0 * math_ops.log(max_val) / np.float32(np.log(10.0)),
            np.float32(10.0 / np.log(10.0)) * math_ops.log(mse), name="psnr")


def _gaussian_filter(size, sigma):
    """The normalized 2-D Gaussian ``[size, size, 1, 1]`` (TF's ``_fspecial_gauss``)."""
    coords = math_ops.cast(array_ops.range(size), sigma.dtype)
    coords = coords - (size - 1) / 2.0
    g = math_ops.square(coords) * (-0.5 / math_ops.square(sigma))
    g = array_ops.reshape(g, [1, -1]) + array_ops.reshape(g, [-1, 1])
    g = softmax(array_ops.reshape(g, [1, -1]))
    return array_ops.reshape(g, [size, size, 1, 1])


def ssim(img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         return_index_map=False):
    """The structural similarity of two images (``tf.image.ssim``), from Gaussian-weighted
    local means, variances and covariance, averaged over the image and channels.

    Args:
      img1, img2: images ``[..., height, width, channels]``.
      max_val: the dynamic range.
      filter_size: the Gaussian window size (capped at the image size).
      filter_sigma: the Gaussian's standard deviation.
      k1, k2: the stabilizing constants.
      return_index_map: return the per-pixel map ``[..., h', w']`` instead of the mean.

    Returns:
      float32 SSIM values of shape ``img1.shape[:-3]`` (or the map).
    """
    with graph_lib.name_scope(None, "SSIM", [img1, img2]):
        img1, img2, max_val = _float_images(img1, img2, max_val)
        per_channel, _ = _ssim_per_channel(img1, img2, max_val, filter_size, filter_sigma,
                                           k1, k2, return_index_map)
        return math_ops.reduce_mean(per_channel, [-1])


def _ssim_per_channel(img1, img2, max_val, filter_size, filter_sigma, k1, k2,
                      return_index_map):
    sigma = graph_lib.convert_to_tensor(filter_sigma, dtype=img1.dtype)
    shape = array_ops.shape(img1)
    size = int(filter_size)
    static = img1.shape.as_list() if img1.shape.ndims is not None else []
    if any(dim is not None and dim < size for dim in static[-3:-1]):
        # TF asserts this before computing; a static shape lets us say so at graph time.
        raise ValueError(f"the images ({img1.shape}) must be at least filter_size={size} "
                         f"high and wide")
    kernel = array_ops.tile(_gaussian_filter(size, sigma),
                            array_ops.stack([1, 1, shape[-1], 1]))

    def reducer(x):
        x_shape = array_ops.shape(x)
        flat = array_ops.reshape(x, array_ops.concat([[-1], x_shape[-3:]], 0))
        y = conv_ops.depthwise_conv2d(flat, kernel, [1, 1, 1, 1], "VALID")
        return array_ops.reshape(y, array_ops.concat(
            [x_shape[:-3], array_ops.shape(y)[1:]], 0))

    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    mean1, mean2 = reducer(img1), reducer(img2)
    num0 = mean1 * mean2 * 2.0
    den0 = math_ops.square(mean1) + math_ops.square(mean2)
    luminance = (num0 + c1) / (den0 + c1)
    num1 = reducer(img1 * img2) * 2.0
    den1 = reducer(math_ops.square(img1) + math_ops.square(img2))
    contrast_structure = (num1 - num0 + c2) / (den1 - den0 + c2)
    if return_index_map:
        return luminance * contrast_structure, contrast_structure
    return (math_ops.reduce_mean(luminance * contrast_structure, [-3, -2]),
            math_ops.reduce_mean(contrast_structure, [-3, -2]))


_MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ssim_multiscale(img1, img2, max_val, power_factors=_MS_SSIM_WEIGHTS, filter_size=11,
                    filter_sigma=1.5, k1=0.01, k2=0.03):
    """The multi-scale structural similarity (``tf.image.ssim_multiscale``): the contrast-
    structure terms of successively 2x average-pooled images and the SSIM of the coarsest,
    combined as a weighted geometric mean.

    Args:
      img1, img2: images ``[..., height, width, channels]`` with static height and width,
        large enough for `filter_size` at the coarsest scale.
      max_val: the dynamic range.
      power_factors: one weight per scale (TF's five by default).
      filter_size, filter_sigma, k1, k2: as in `ssim`.

    Returns:
      float32 MS-SSIM values of shape ``img1.shape[:-3]``.

    Raises:
      ValueError: for images of unknown height or width, or too small.
    """
    with graph_lib.name_scope(None, "MS-SSIM", [img1, img2]):
        img1, img2, max_val = _float_images(img1, img2, max_val)
        height, width = (img1.shape.as_list()[-3:-1] if img1.shape.ndims else (None, None))
        if height is None or width is None:
            raise ValueError("ssim_multiscale needs a static image height and width")
        images = [img1, img2]
        heads = array_ops.shape(img1)[:-3]
        scores = []
        for scale in range(len(power_factors)):
            if scale > 0:
                # 2x average pooling; an odd side is first padded by mirroring its last row
                # or column (TF's SYMMETRIC padding of the remainder).
                padding = [[0, 0], [0, height % 2], [0, width % 2], [0, 0]]
                pooled = []
                for image in images:
                    tail = array_ops.shape(image)[-3:]
                    flat = array_ops.reshape(image, array_ops.concat([[-1], tail], 0))
                    if height % 2 or width % 2:
                        flat = manipulation_ops.pad(flat, padding, mode="SYMMETRIC")
                    pooled.append(conv_ops.avg_pool(flat, [1, 2, 2, 1], [1, 2, 2, 1],
                                                    "VALID"))
                height, width = (height + 1) // 2, (width + 1) // 2
                images = [array_ops.reshape(image, array_ops.concat(
                    [heads, array_ops.shape(image)[1:]], 0)) for image in pooled]
                for image in images:
                    image.set_shape(img1.shape[:-3].concatenate(
                        [height, width, img1.shape[-1]]))
            ssim_per_channel, contrast = _ssim_per_channel(
                images[0], images[1], max_val, filter_size, filter_sigma, k1, k2, False)
            scores.append(relu(contrast))
        scores[-1] = relu(ssim_per_channel)
        stacked = array_ops.stack(scores, axis=-1)
        weights = graph_lib.convert_to_tensor(np.asarray(power_factors, np.float32))
        return math_ops.reduce_mean(math_ops.reduce_prod(math_ops.pow(stacked, weights), [-1]),
                                    [-1])


def total_variation(images, name=None):
    """The sum of absolute differences of neighbouring pixels (``tf.image.total_variation``).

    Args:
      images: a 3-D ``[h, w, c]`` or 4-D ``[batch, h, w, c]`` image tensor.
      name: the op name.

    Returns:
      A scalar for a 3-D image, a ``[batch]`` vector for 4-D.

    Raises:
      ValueError: for another rank.
    """
    with graph_lib.name_scope(name, "total_variation", [images]):
        images = graph_lib.convert_to_tensor(images, name="images")
        rank = images.shape.ndims
        if rank == 3:
            vertical = images[1:, :, :] - images[:-1, :, :]
            horizontal = images[:, 1:, :] - images[:, :-1, :]
            axes = None
        elif rank == 4:
            vertical = images[:, 1:, :, :] - images[:, :-1, :, :]
            horizontal = images[:, :, 1:, :] - images[:, :, :-1, :]
            axes = [1, 2, 3]
        else:
            raise ValueError("'images' must be either 3 or 4-dimensional.")
        return (math_ops.reduce_sum(math_ops.abs(vertical), axes)
                + math_ops.reduce_sum(math_ops.abs(horizontal), axes))


# ---- gradients and edges ---------------------------------------------------------------------

def image_gradients(image):
    """Forward differences ``(dy, dx)`` of a 4-D image, the last row/column 0
    (``tf.image.image_gradients``).

    Args:
      image: a 4-D ``[batch, h, w, d]`` tensor.

    Returns:
      ``(dy, dx)``, each of `image`'s shape.

    Raises:
      ValueError: if `image` is not 4-D.
    """
    image = graph_lib.convert_to_tensor(image, name="image")
    if image.shape.ndims != 4:
        raise ValueError(f"image_gradients expects a 4D tensor [batch_size, h, w, d], not "
                         f"{image.shape}.")
    shape = array_ops.shape(image)
    batch, height, width, depth = (shape[i] for i in range(4))
    dy = image[:, 1:, :, :] - image[:, :-1, :, :]
    dx = image[:, :, 1:, :] - image[:, :, :-1, :]
    dy = array_ops.concat(
        [dy, array_ops.zeros(array_ops.stack([batch, 1, width, depth]), image.dtype)], 1)
    dx = array_ops.concat(
        [dx, array_ops.zeros(array_ops.stack([batch, height, 1, depth]), image.dtype)], 2)
    return array_ops.reshape(dy, shape), array_ops.reshape(dx, shape)


# The vertical (dy) and horizontal (dx) Sobel filters.
_SOBEL = np.array([[[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
                   [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]], dtype=np.float64)


def sobel_edges(image):
    """The Sobel edge maps of each channel, over reflect-padded borders
    (``tf.image.sobel_edges``).

    Args:
      image: a 4-D float ``[batch, h, w, d]`` tensor.

    Returns:
      ``[batch, h, w, d, 2]``: the vertical and horizontal responses.
    """
    image = graph_lib.convert_to_tensor(image, name="image")
    filters = np.expand_dims(np.transpose(_SOBEL, (1, 2, 0)), -2)   # [3, 3, 1, 2]
    shape = array_ops.shape(image)
    kernel = array_ops.tile(array_ops.constant(filters, dtype=image.dtype),
                            array_ops.stack([1, 1, shape[-1], 1]))
    padded = manipulation_ops.pad(image, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    output = conv_ops.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")
    return array_ops.reshape(output, array_ops.concat([shape, [2]], 0))


# ---- YIQ and YUV -----------------------------------------------------------------------------

_RGB_TO_YIQ = [[0.299, 0.59590059, 0.2115], [0.587, -0.27455667, -0.52273617],
               [0.114, -0.32134392, 0.31119955]]
_YIQ_TO_RGB = [[1, 1, 1], [0.95598634, -0.27201283, -1.10674021],
               [0.6208248, -0.64720424, 1.70423049]]
_RGB_TO_YUV = [[0.299, -0.14714119, 0.61497538], [0.587, -0.28886916, -0.51496512],
               [0.114, 0.43601035, -0.10001026]]
_YUV_TO_RGB = [[1, 1, 1], [0, -0.394642334, 2.03206185], [1.13988303, -0.58062185, 0]]


def _color_transform(images, matrix):
    images = graph_lib.convert_to_tensor(images, name="images")
    kernel = array_ops.constant(matrix, dtype=images.dtype, name="kernel")
    flat = array_ops.reshape(images, [-1, 3])
    return array_ops.reshape(math_ops.matmul(flat, kernel), array_ops.shape(images))


def _color_space(matrix, source, target):
    def convert(images):
        return _color_transform(images, matrix)

    convert.__name__ = f"{source.lower()}_to_{target.lower()}"
    convert.__doc__ = f"""{source} to {target} (``tf.image.{convert.__name__}``); the last
    dimension holds the 3 channels.

    Args:
      images: a float tensor ``[..., 3]``.

    Returns:
      The {target} images, of `images`' shape and dtype.
    """
    return convert


rgb_to_yiq = _color_space(_RGB_TO_YIQ, "RGB", "YIQ")
yiq_to_rgb = _color_space(_YIQ_TO_RGB, "YIQ", "RGB")
rgb_to_yuv = _color_space(_RGB_TO_YUV, "RGB", "YUV")
yuv_to_rgb = _color_space(_YUV_TO_RGB, "YUV", "RGB")


# ---- resizing with padding, and the JPEG test --------------------------------------------

def resize_image_with_pad(image, target_height, target_width,
                          method=ResizeMethod.BILINEAR, align_corners=False):
    """Resizes `image` to fit in the target size keeping its aspect ratio, then pads it with
    zeros to that size, centred (``tf.image.resize_image_with_pad``).

    Args:
      image: a 3-D ``[h, w, c]`` or 4-D ``[batch, h, w, c]`` image with static height and
        width.
      target_height, target_width: the output size (ints).
      method: a `ResizeMethod`.
      align_corners: as in `resize_images`.

    Returns:
      The resized and padded image(s).

    Raises:
      ValueError: for another rank, an unknown height/width, or a non-positive target.
    """
    with graph_lib.name_scope(None, "resize_image_with_pad", [image]):
        image = graph_lib.convert_to_tensor(image, name="image")
        rank = image.shape.ndims
        if rank not in (3, 4):
            raise ValueError("'image' must have either 3 or 4 dimensions.")
        batched = image if rank == 4 else array_ops.expand_dims(image, 0)
        height, width = batched.shape.as_list()[1:3]
        if height is None or width is None:
            raise ValueError("resize_image_with_pad needs a static image height and width")
        target_height, target_width = int(target_height), int(target_width)
        if target_height <= 0 or target_width <= 0:
            raise ValueError("target_height and target_width must be > 0")
        # TF's arithmetic, in float32: the ratio, the resized size and the top-left padding.
        f32 = np.float32
        ratio = max(f32(width) / f32(target_width), f32(height) / f32(target_height))
        resized_height_float, resized_width_float = f32(height) / ratio, f32(width) / ratio
        resized = resize_images(batched, [int(np.floor(resized_height_float)),
                                          int(np.floor(resized_width_float))],
                                method=method, align_corners=align_corners)
        pad_top = max(0, int(np.floor((f32(target_height) - resized_height_float) / f32(2))))
        pad_left = max(0, int(np.floor((f32(target_width) - resized_width_float) / f32(2))))
        padded = pad_to_bounding_box(resized, pad_top, pad_left, target_height, target_width)
        return padded if rank == 4 else array_ops.squeeze(padded, [0])


def is_jpeg(contents, name=None):
    """Whether `contents` starts with the JPEG magic bytes ``FF D8 FF`` (``tf.image.is_jpeg``,
    ``tf.io.is_jpeg``).

    Args:
      contents: a string scalar (the encoded image).
      name: the op name.

    Returns:
      A bool scalar.
    """
    with graph_lib.name_scope(name, "is_jpeg", [contents]):
        return math_ops.equal(substr(contents, 0, 3), b"\xff\xd8\xff", name=name)

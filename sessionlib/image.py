"""``tf.image``: TF 1's image namespace (flips, crops, pads, resizing, brightness, contrast …).

Only re-exports; the ops live in ``sessionlib.ops.image_ops`` and
``sessionlib.ops.image_resize_ops``.
"""

from sessionlib.ops.image_ops import (adjust_brightness, adjust_contrast, central_crop,
                                      convert_image_dtype, crop_to_bounding_box,
                                      flip_left_right, flip_up_down, grayscale_to_rgb,
                                      pad_to_bounding_box, per_image_standardization,
                                      random_brightness, random_contrast, random_crop,
                                      random_flip_left_right, random_flip_up_down,
                                      resize_image_with_crop_or_pad, resize_with_crop_or_pad,
                                      rgb_to_grayscale, rot90, transpose, transpose_image)
from sessionlib.ops.image_resize_ops import (ResizeMethod, resize, resize_bilinear,
                                             resize_images, resize_nearest_neighbor)

__all__ = ["adjust_brightness", "adjust_contrast", "central_crop", "convert_image_dtype",
           "crop_to_bounding_box", "flip_left_right", "flip_up_down", "grayscale_to_rgb",
           "pad_to_bounding_box", "per_image_standardization", "random_brightness",
           "random_contrast", "random_crop", "random_flip_left_right", "random_flip_up_down",
           "resize_image_with_crop_or_pad", "resize_with_crop_or_pad", "rgb_to_grayscale",
           "rot90", "transpose", "transpose_image",
           "ResizeMethod", "resize", "resize_bilinear", "resize_images",
           "resize_nearest_neighbor"]

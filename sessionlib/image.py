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

# ---- color spaces and PNG codec ----
from sessionlib.ops.image_codec_ops import decode_image, decode_png, encode_png
from sessionlib.ops.image_color_ops import (adjust_gamma, adjust_hue, adjust_saturation,
                                            hsv_to_rgb, random_hue, random_saturation,
                                            rgb_to_hsv)
# ---- end of the color spaces and PNG codec block ----

# ---- JPEG codec ----
from sessionlib.ops.image_jpeg_ops import (adjust_jpeg_quality, decode_and_crop_jpeg,
                                           decode_jpeg, encode_jpeg, extract_jpeg_shape,
                                           random_jpeg_quality)
# ---- end of the JPEG codec block ----

# ---- box ops: detection and Inception-style preprocessing ----
from sessionlib.ops.image_box_ops import (crop_and_resize, draw_bounding_boxes,
                                          non_max_suppression,
                                          non_max_suppression_with_scores,
                                          sample_distorted_bounding_box)
# ---- end of the box ops block ----

__all__ = ["adjust_brightness", "adjust_contrast", "central_crop", "convert_image_dtype",
           "crop_to_bounding_box", "flip_left_right", "flip_up_down", "grayscale_to_rgb",
           "pad_to_bounding_box", "per_image_standardization", "random_brightness",
           "random_contrast", "random_crop", "random_flip_left_right", "random_flip_up_down",
           "resize_image_with_crop_or_pad", "resize_with_crop_or_pad", "rgb_to_grayscale",
           "rot90", "transpose", "transpose_image",
           "ResizeMethod", "resize", "resize_bilinear", "resize_images",
           "resize_nearest_neighbor"]
# Color spaces and PNG codec.
__all__ += ["decode_image", "decode_png", "encode_png", "adjust_gamma", "adjust_hue",
            "adjust_saturation", "hsv_to_rgb", "random_hue", "random_saturation", "rgb_to_hsv"]
# JPEG codec.
__all__ += ["adjust_jpeg_quality", "decode_and_crop_jpeg", "decode_jpeg", "encode_jpeg",
            "extract_jpeg_shape", "random_jpeg_quality"]
# Box ops.
__all__ += ["crop_and_resize", "draw_bounding_boxes", "non_max_suppression",
            "non_max_suppression_with_scores", "sample_distorted_bounding_box"]

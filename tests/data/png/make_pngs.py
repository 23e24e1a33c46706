"""Writes the PNG samples of tests/test_image_color_png.py with TensorFlow's encoder.

Run by hand with a TensorFlow install (no test needs TensorFlow):
    python tests/data/png/make_pngs.py
Each ``NAME.png`` comes with ``NAME.npy``, the array it encodes (uint16 for 16-bit images).
libpng picks a row filter per row, so the files use filters 0 to 4 between them.
"""

import pathlib

import numpy as np
import tensorflow as tf

HERE = pathlib.Path(__file__).parent
SAMPLES = {"gray8": ((5, 4, 1), np.uint8), "gray_alpha8": ((3, 6, 2), np.uint8),
           "rgb8": ((4, 5, 3), np.uint8), "rgba8": ((6, 3, 4), np.uint8),
           "rgb16": ((3, 4, 3), np.uint16), "gray16": ((4, 2, 1), np.uint16)}


def main():
    rng = np.random.default_rng(0)
    for name, (shape, dtype) in SAMPLES.items():
        array = rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)
        # A smooth ramp in the first row makes libpng's filter choice vary across rows.
        array[0] = np.linspace(0, np.iinfo(dtype).max, shape[1] * shape[2]).astype(
            dtype).reshape(shape[1:])
        (HERE / f"{name}.png").write_bytes(tf.io.encode_png(array).numpy())
        np.save(HERE / f"{name}.npy", array)


if __name__ == "__main__":
    main()

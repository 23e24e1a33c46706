"""Writes the PNG samples of tests/test_image_color_png.py with TensorFlow's encoder.

Run by hand with a TensorFlow install (no test needs TensorFlow):
    python tests/data/png/make_pngs.py
Each ``NAME.png`` comes with ``NAME.npy``, the array it encodes (uint16 for 16-bit images).
libpng picks a row filter per row, so the files use filters 0 to 4 between them.
``color_graph.pb`` is a TF 1 GraphDef through every color and PNG op (AdjustHue,
AdjustSaturation, AdjustContrastv2, RGBToHSV, HSVToRGB, EncodePng, DecodePng, DecodeImage);
``color_graph.npz`` holds its input ``x`` and TF's outputs ``decoded`` and ``decoded_image``.
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
    write_color_graph(rng)


def write_color_graph(rng):
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, None, 3], name="x")
        adjusted = v1.image.adjust_contrast(
            v1.image.adjust_saturation(v1.image.adjust_hue(x, 0.2), 1.5), 1.3)
        round_trip = v1.image.hsv_to_rgb(v1.image.rgb_to_hsv(adjusted))
        pixels = v1.image.convert_image_dtype(round_trip, tf.uint8, saturate=True)
        encoded = v1.image.encode_png(pixels, compression=3)
        decoded = tf.identity(v1.image.decode_png(encoded, channels=4), name="decoded")
        decoded_image = tf.identity(v1.image.decode_image(encoded, channels=3,
                                                          expand_animations=False),
                                    name="decoded_image")
        x_value = rng.random((3, 4, 3)).astype(np.float32)
        with v1.Session() as session:
            outputs = session.run([decoded, decoded_image], {x: x_value})
    (HERE / "color_graph.pb").write_bytes(graph.as_graph_def().SerializeToString())
    np.savez(HERE / "color_graph.npz", x=x_value, decoded=outputs[0],
             decoded_image=outputs[1])


if __name__ == "__main__":
    main()

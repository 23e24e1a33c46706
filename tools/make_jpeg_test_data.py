"""Writes tests/data/jpeg/: JPEG files made by TensorFlow's encoder and the pixels TF decodes
them to, for tests/test_image_jpeg.py.

Run by hand from the repository root, first with Pillow (TF cannot write a CMYK JPEG), then
with TensorFlow 2.21 (not a sessionlib dependency):
    python tools/make_jpeg_test_data.py --cmyk
    /work/tfref/bin/python tools/make_jpeg_test_data.py
``cmyk.jpg`` is an Adobe CMYK JPEG written by Pillow's libjpeg-turbo.
Files: ``rgb.jpg`` (16x12, 4:2:0, quality 95), ``odd.jpg`` (13x11, odd sizes, quality 80),
``rgb444.jpg`` (no chroma subsampling), ``gray.jpg`` (one component), ``big.jpg`` (48x36, for
crops); ``encoded_*.jpg``: TF's encodings of ``source.npz``'s images with other settings.
``decoded.npz`` holds TF's decode of each file for every channels/ratio/dct_method/
fancy_upscaling choice (key ``NAME_c{channels}_r{ratio}_{dct or 'default'}_{fancy 0/1}``),
``crop_NAME_y_x_h_w`` decode_and_crop_jpeg results, ``partial_*`` truncated files decoded
with acceptable_fraction 0.05 (empty where TF refused them), ``truncated_recovered``
(rgb.jpg less its EOI marker, try_recover_truncated=True) and ``adjusted_q75``
(adjust_jpeg_quality of the float image ``adjust_input``).
"""

import io
import pathlib
import sys

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "jpeg"
CROPS = (("rgb", (2, 3, 7, 9)), ("rgb", (11, 15, 1, 1)), ("big", (5, 17, 20, 13)),
         ("big", (16, 32, 10, 10)), ("big", (3, 0, 20, 48)), ("gray", (1, 2, 5, 6)))


def _image(rng, height, width, channels):
    rows, columns = np.mgrid[0:height, 0:width]
    ramps = np.stack([columns * 255 // width, rows * 255 // height,
                      (rows + columns) * 128 // (height + width)], axis=-1)
    base = ramps if channels == 3 else (columns * 10 + rows * 7)[..., None]
    noise = rng.integers(0, 60, (height, width, channels))
    return (base + noise).clip(0, 255).astype(np.uint8)


def write_cmyk():
    from PIL import Image

    OUT.mkdir(parents=True, exist_ok=True)
    cmyk = np.random.default_rng(5).integers(0, 256, (12, 16, 4), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(cmyk, "CMYK").save(buffer, "JPEG", quality=90)
    (OUT / "cmyk.jpg").write_bytes(buffer.getvalue())


def write_graph(tf, contents):
    """``jpeg_graph.pb``: a TF 1 GraphDef through every JPEG op; ``jpeg_graph.npz`` holds its
    fetches' values for the fed ``contents`` (odd.jpg), the encoded bytes as uint8."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        fed = v1.placeholder(tf.string, [], name="contents")
        pixels = v1.image.decode_jpeg(fed, channels=3, dct_method="INTEGER_ACCURATE")
        encoded = v1.image.encode_jpeg(pixels, quality=80, density_unit="cm", x_density=7,
                                       y_density=9, xmp_metadata="<xmp/>")
        tf.identity(encoded, name="encoded")
        tf.identity(v1.image.decode_jpeg(encoded, ratio=2), name="decoded_half")
        tf.identity(v1.image.decode_and_crop_jpeg(fed, [1, 2, 6, 9], fancy_upscaling=False),
                    name="cropped")
        tf.identity(v1.image.extract_jpeg_shape(fed, output_type=tf.int64), name="shape")
        tf.identity(v1.image.adjust_jpeg_quality(pixels, 30), name="adjusted")
        names = ["encoded", "decoded_half", "cropped", "shape", "adjusted"]
        with v1.Session() as session:
            values = session.run([f"{name}:0" for name in names], {fed: contents})
    (OUT / "jpeg_graph.pb").write_bytes(graph.as_graph_def().SerializeToString())
    # The encoded bytes as uint8, so that the file loads without pickle.
    np.savez(OUT / "jpeg_graph.npz", **{name: np.frombuffer(value, np.uint8)
                                        if name == "encoded" else value
                                        for name, value in zip(names, values)})


def main():
    import tensorflow as tf

    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rgb, odd, gray = _image(rng, 12, 16, 3), _image(rng, 11, 13, 3), _image(rng, 12, 16, 1)
    big = np.repeat(np.repeat(rgb, 3, axis=0), 3, axis=1)
    files = {"rgb": tf.io.encode_jpeg(rgb).numpy(),
             "odd": tf.io.encode_jpeg(odd, quality=80).numpy(),
             "rgb444": tf.io.encode_jpeg(rgb, chroma_downsampling=False).numpy(),
             "gray": tf.io.encode_jpeg(gray).numpy(),
             "big": tf.io.encode_jpeg(big).numpy()}
    encoded = {"encoded_q50_444_progressive_optimized": tf.io.encode_jpeg(
                   rgb, quality=50, chroma_downsampling=False, progressive=True,
                   optimize_size=True),
               "encoded_cm_xmp": tf.io.encode_jpeg(rgb, density_unit="cm", x_density=10,
                                                   y_density=20, xmp_metadata="<x>hi</x>"),
               "encoded_odd_q10": tf.io.encode_jpeg(odd, quality=10),
               "encoded_rgbformat_q70": tf.io.encode_jpeg(rgb, format="rgb", quality=70)}
    for name, data in list(files.items()) + [(k, v.numpy()) for k, v in encoded.items()]:
        (OUT / f"{name}.jpg").write_bytes(data)
    decoded = {}
    for name, data in files.items():
        if name == "big":
            continue
        for channels in (0, 1, 3):
            for ratio in (1, 2, 4, 8):
                for dct in ("", "INTEGER_FAST", "INTEGER_ACCURATE"):
                    for fancy in (True, False):
                        key = f"{name}_c{channels}_r{ratio}_{dct or 'default'}_{int(fancy)}"
                        decoded[key] = tf.io.decode_jpeg(
                            data, channels=channels, ratio=ratio, dct_method=dct,
                            fancy_upscaling=fancy).numpy()
    cmyk = (OUT / "cmyk.jpg").read_bytes()
    for ratio in (1, 2):
        for dct in ("", "INTEGER_ACCURATE"):
            decoded[f"cmyk_r{ratio}_{dct or 'default'}"] = tf.io.decode_jpeg(
                cmyk, ratio=ratio, dct_method=dct).numpy()
    decoded["cmyk_shape"] = tf.image.extract_jpeg_shape(cmyk).numpy()
    for name, window in CROPS:
        key = f"crop_{name}_{'_'.join(map(str, window))}"
        decoded[key] = tf.io.decode_and_crop_jpeg(files[name], list(window)).numpy()
    # Truncated files without recovery, accepted with acceptable_fraction: libjpeg's rows
    # before the data ran out, zeros after (key partial_NAME_LENGTH_c_r_dct_fancy).
    for name, cut in (("big", 100), ("big", 400), ("gray", 60)):
        data = files[name][:-cut]
        for channels, ratio, dct, fancy in ((0, 1, "", True), (1, 1, "", True),
                                            (3, 1, "INTEGER_ACCURATE", True),
                                            (0, 2, "", True), (0, 1, "", False)):
            key = (f"partial_{name}_{len(data)}_c{channels}_r{ratio}_{dct or 'default'}_"
                   f"{int(fancy)}")
            try:
                decoded[key] = tf.io.decode_jpeg(
                    data, channels=channels, ratio=ratio, dct_method=dct,
                    fancy_upscaling=fancy, acceptable_fraction=0.05).numpy()
            except tf.errors.InvalidArgumentError:
                decoded[key] = np.zeros((0,), np.uint8)  # TF refused: too few rows
    decoded["truncated_recovered"] = tf.io.decode_jpeg(
        files["rgb"][:-2], try_recover_truncated=True).numpy()
    adjust_input = rgb.astype(np.float32) / 255
    decoded["adjust_input"] = adjust_input
    decoded["adjusted_q75"] = tf.image.adjust_jpeg_quality(adjust_input, 75).numpy()
    np.savez_compressed(OUT / "decoded.npz", **decoded)
    write_graph(tf, files["odd"])
    np.savez_compressed(OUT / "source.npz", rgb=rgb, odd=odd, gray=gray, big=big)


if __name__ == "__main__":
    if sys.argv[1:] == ["--cmyk"]:
        write_cmyk()
    else:
        main()

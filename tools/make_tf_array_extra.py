"""Writes tests/data/tf_array_extra.pb and tf_array_extra.npz: a TF-written GraphDef of TF 1's
remaining array ops (those of sessionlib/ops/array_extra_ops.py, including the 4-D SpaceToBatch
and BatchToSpace of older graphs) with its feeds and TF's outputs, for tests/test_array_extra.py.

Run with the TF reference environment (``/work/tfref/bin/python tools/make_tf_array_extra.py``).
Each output is an Identity named ``out_<key>``; the .npz holds the feeds ``feed_x`` and
``feed_v`` and TF's value of each output under its key.
"""

import os

import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.python.ops import gen_array_ops

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data")


def main():
    x = tf.placeholder(tf.float32, [2, 4, 6, 3], name="x")
    v = tf.placeholder(tf.int32, [7], name="v")
    sparse_a = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [1, 2, 3], [2, 2])
    sparse_b = tf.SparseTensor([[0, 0], [1, 1]], [1, 3], [2, 2])
    outs = {
        "s2d": tf.space_to_depth(x, 2),
        "d2s": tf.depth_to_space(tf.space_to_depth(x, 2), 2),
        "s2b": tf.space_to_batch_nd(x, [2, 3], [[1, 1], [0, 0]]),
        "s2b_old": gen_array_ops.space_to_batch(x, [[0, 0], [1, 1]], 2),
        "b2s_old": gen_array_ops.batch_to_space(tf.reshape(x, [8, 2, 3, 3]),
                                                [[0, 1], [1, 0]], 2),
        "u": tf.unique(v, out_idx=tf.int64)[1],
        "uc": tf.unique_with_counts(v)[2],
        "rs": tf.reverse_sequence(x, [1, 3], seq_axis=1, batch_axis=0),
        "bt": tf.broadcast_to(v, [2, 7]),
        "roll": tf.roll(x, [1, 2], [1, 2]),
        "lin": tf.raw_ops.LinSpace(start=0., stop=1., num=5),
        "diag": tf.diag(v),
        "diagp": tf.diag_part(tf.diag(v)),
        "ss": tf.searchsorted(tf.sort(v), v, side="right"),
        "sd": tf.setdiff1d(v, [1, 2])[0],
        "ui": tf.unravel_index(v * 0 + 5, [3, 4]),
        "tsu": tf.tensor_scatter_nd_update(v, [[1]], [100]),
        "tsmax": tf.tensor_scatter_nd_max(v, [[1]], [100]),
        "sn": tf.shape_n([x, x])[0],
        "ps": tf.parallel_stack([v, v]),
        "es": tf.ensure_shape(x, [2, None, 6, 3]),
        "hist": tf.histogram_fixed_width(tf.cast(v, tf.float32), [0., 5.], 5),
        "eip": tf.extract_image_patches(x, [1, 2, 2, 1], [1, 2, 1, 1], [1, 1, 2, 1], "SAME"),
        "bc": tf.bitcast(v, tf.uint8),
        "bargs": tf.broadcast_dynamic_shape(tf.shape(x), [1, 6, 1]),
        "argsort": tf.argsort(v, direction="DESCENDING"),
        "wv2": tf.where_v2(v > 0, v, -v),
        "ed": tf.edit_distance(sparse_a, sparse_b),
    }
    names = {key: tf.identity(tensor, name="out_" + key).name for key, tensor in outs.items()}
    feed = {x: np.random.RandomState(0).randn(2, 4, 6, 3).astype(np.float32),
            v: np.array([3, 1, 4, 1, 5, 9, 2], np.int32)}
    with tf.Session() as session:
        values = session.run(names, feed)
    np.savez(os.path.join(OUT, "tf_array_extra.npz"), feed_x=feed[x], feed_v=feed[v],
             **values)
    with open(os.path.join(OUT, "tf_array_extra.pb"), "wb") as f:
        f.write(tf.get_default_graph().as_graph_def().SerializeToString())
    print(sorted({op.type for op in tf.get_default_graph().get_operations()}))


if __name__ == "__main__":
    main()

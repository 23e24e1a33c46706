"""The graphs of ``tests/test_glue_gaps.py``, built from a `tf` module argument so that the
same code runs on sessionlib and on TensorFlow: TensorFlow 2.21's results are stored in
``tests/data/glue_gaps_tf.npz`` (regenerate with
``TF_USE_LEGACY_KERAS=1 /path/to/tf/python tests/_glue_gap_graphs.py``
no test needs TF).
"""

import os
import pathlib
import sys

import numpy as np

DATA = pathlib.Path(__file__).parent / "data" / "glue_gaps_tf.npz"


def build_nn(tf):
    """The tf.nn compositions, as a dict of name -> tensor or list of tensors."""
    rng = np.random.default_rng(0)
    x4 = rng.normal(size=(2, 6, 6, 3)).astype(np.float32)
    x3 = rng.normal(size=(2, 7, 3)).astype(np.float32)
    x5 = rng.normal(size=(1, 4, 4, 4, 2)).astype(np.float32)
    f1 = rng.normal(size=(3, 4, 3)).astype(np.float32)
    f2 = rng.normal(size=(3, 3, 4, 3)).astype(np.float32)
    w = rng.normal(size=(3, 4)).astype(np.float32)
    b = rng.normal(size=(4,)).astype(np.float32)
    m = rng.normal(size=(5, 3)).astype(np.float32)
    t = np.array([0., 0.5, 1., 2., 5.], np.float32)
    li = rng.normal(size=5).astype(np.float32)
    out = {}
    out["avg_pool2d"] = tf.nn.avg_pool2d(x4, 2, 2, "SAME")
    out["max_pool2d"] = tf.nn.max_pool2d(x4, [3, 3], [1, 2], "VALID")
    out["avg_pool_v2_1d"] = tf.nn.avg_pool_v2(x3, 2, 1, "SAME")
    out["max_pool_v2_3d"] = tf.nn.max_pool_v2(x5, 2, 2, "VALID")
    out["max_pool_v2_2d"] = tf.nn.max_pool_v2(x4, [2, 2], [2, 2], "SAME")
    out["conv1d_transpose"] = tf.nn.conv1d_transpose(x3, f1, [2, 14, 4], 2)
    out["conv_transpose1"] = tf.nn.conv_transpose(x3, f1, [2, 9, 4], 1, "VALID")
    out["conv_transpose2"] = tf.nn.conv_transpose(x4, f2, [2, 12, 12, 4], 2)
    out["atrous_t_same"] = tf.nn.atrous_conv2d_transpose(x4, f2, [2, 6, 6, 4], 2, "SAME")
    out["atrous_t_valid"] = tf.nn.atrous_conv2d_transpose(x4, f2, [2, 10, 10, 4], 2, "VALID")
    df = rng.normal(size=(3, 3, 3, 2)).astype(np.float32)
    ob = rng.normal(size=(2, 6, 6, 6)).astype(np.float32)
    out["dw_filter"] = tf.nn.depthwise_conv2d_backprop_filter(x4, [3, 3, 3, 2], ob,
                                                              [1, 1, 1, 1], "SAME")
    out["dw_input"] = tf.nn.depthwise_conv2d_backprop_input([2, 6, 6, 3], df, ob,
                                                            [1, 1, 1, 1], "SAME")
    ob3 = rng.normal(size=(1, 4, 4, 4, 3)).astype(np.float32)
    out["c3_filter"] = tf.nn.conv3d_backprop_filter(x5, [2, 2, 2, 2, 3], ob3,
                                                    [1, 1, 1, 1, 1], "SAME")
    out["relu_layer"] = tf.nn.relu_layer(m, w, b)
    out["xw_plus_b"] = tf.nn.xw_plus_b(m, w, b)
    out["lpl"] = tf.nn.log_poisson_loss(t, li)
    out["lpl_full"] = tf.nn.log_poisson_loss(t, li, compute_full_loss=True)
    c, ms, vs, sh = tf.nn.sufficient_statistics(m, [0])
    out["ss"] = [c, ms, vs]
    c2, ms2, vs2, sh2 = tf.nn.sufficient_statistics(m, [0, 1], shift=0.5, keep_dims=True)
    out["ss_shift"] = [c2, ms2, vs2]
    out["norm_moments"] = list(tf.nn.normalize_moments(c2, ms2, vs2, sh2))
    out["norm_moments0"] = list(tf.nn.normalize_moments(c, ms, vs, None))
    out["zero_fraction"] = tf.nn.zero_fraction(np.array([[0, 1], [0, 0]], np.int32))
    out["avg_loss"] = tf.nn.compute_average_loss(li, sample_weight=t)
    out["avg_loss_gbs"] = tf.nn.compute_average_loss(m, global_batch_size=10)
    out["scale_reg"] = tf.nn.scale_regularization_loss(li)
    mean = rng.normal(size=3).astype(np.float32)
    var = rng.uniform(0.5, 2, 3).astype(np.float32)
    out["bn_global"] = tf.nn.batch_norm_with_global_normalization(
        x4, mean, var, b[:3], w[:, 0], 1e-3, True)
    out["bn_global_noscale"] = tf.nn.batch_norm_with_global_normalization(
        x4, mean, var, b[:3], w[:, 0], 1e-3, False)
    return out


def build_embeddings(tf):
    """embedding_lookup_sparse and safe_embedding_lookup_sparse, values and gradients."""
    rng = np.random.default_rng(1)
    params = tf.constant(rng.normal(size=(6, 3)).astype(np.float32))
    parts = [tf.constant(rng.normal(size=(3, 3)).astype(np.float32)),
             tf.constant(rng.normal(size=(3, 3)).astype(np.float32))]
    idx = np.array([[0, 0], [0, 1], [1, 0], [3, 0], [3, 1], [3, 2]], np.int64)
    ids = tf.SparseTensor(idx, np.array([1, 3, 1, 5, 0, 3], np.int64), [5, 3])
    wts = tf.SparseTensor(idx, np.array([2., .5, 1., 3., 1.5, 0.25], np.float32), [5, 3])
    out = {}
    for c in ("sum", "mean", "sqrtn"):
        out["w_" + c] = tf.nn.embedding_lookup_sparse(params, ids, wts, combiner=c)
        out["nw_" + c] = tf.nn.embedding_lookup_sparse(params, ids, None, combiner=c)
        out["part_" + c] = tf.nn.embedding_lookup_sparse(parts, ids, wts, combiner=c,
                                                         partition_strategy="div")
        out["maxn_" + c] = tf.nn.embedding_lookup_sparse(params, ids, wts, combiner=c,
                                                         max_norm=0.8)
    bad = tf.SparseTensor(idx, np.array([1, -1, -2, 5, 0, 3], np.int64), [5, 3])
    badw = tf.SparseTensor(idx, np.array([2., .5, 1., -3., 1.5, 0.], np.float32), [5, 3])
    for c in ("sum", "mean", "sqrtn"):
        out["safe_" + c] = tf.nn.safe_embedding_lookup_sparse(params, bad, badw, combiner=c)
        out["safe_def_" + c] = tf.nn.safe_embedding_lookup_sparse(params, bad, badw, combiner=c,
                                                                  default_id=2)
        out["safe_nw_" + c] = tf.nn.safe_embedding_lookup_sparse(params, bad, None, combiner=c)
    idx3 = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 0], [1, 1, 2]], np.int64)
    ids3 = tf.SparseTensor(idx3, np.array([1, 2, 4, -1], np.int64), [2, 2, 3])
    out["safe_rank3"] = tf.nn.safe_embedding_lookup_sparse(params, ids3, None)
    out["safe_parts"] = tf.nn.safe_embedding_lookup_sparse(parts, bad, badw, max_norm=1.0)
    loss = tf.reduce_sum(tf.nn.embedding_lookup_sparse(params, ids, wts, combiner="sqrtn") ** 2)
    g = tf.gradients(loss, params)[0]
    out["grad"] = tf.convert_to_tensor(g)
    loss2 = tf.reduce_sum(tf.nn.safe_embedding_lookup_sparse(params, bad, badw) ** 2)
    out["grad_safe"] = tf.convert_to_tensor(tf.gradients(loss2, params)[0])
    loss3 = tf.reduce_sum(tf.nn.embedding_lookup_sparse(params, ids, None, combiner="mean") ** 2)
    out["grad_nw"] = tf.convert_to_tensor(tf.gradients(loss3, params)[0])
    return out


def build_image(tf):
    """The tf.image compositions and is_jpeg."""
    rng = np.random.default_rng(2)
    a = rng.uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1).astype(np.float32)
    u8a = (a * 255).astype(np.uint8)
    u8b = (b * 255).astype(np.uint8)
    out = {}
    out["psnr"] = tf.image.psnr(a, b, 1.0)
    out["psnr_u8"] = tf.image.psnr(u8a, u8b, 255)
    out["ssim"] = tf.image.ssim(a, b, 1.0)
    out["ssim_u8"] = tf.image.ssim(u8a, u8b, 255, filter_size=7)
    out["ssim_small"] = tf.image.ssim(a[:, :5, :6], b[:, :5, :6], 1.0, filter_size=4,
                                      filter_sigma=0.8)
    big_a = rng.uniform(0, 1, (2, 23, 18, 2)).astype(np.float32)
    big_b = np.clip(big_a + rng.normal(0, 0.2, big_a.shape), 0, 1).astype(np.float32)
    out["ms_ssim"] = tf.image.ssim_multiscale(big_a, big_b, 1.0, power_factors=(0.3, 0.4, 0.3),
                                              filter_size=3)
    out["ms_ssim_u8"] = tf.image.ssim_multiscale((big_a * 255).astype(np.uint8),
                                                 (big_b * 255).astype(np.uint8), 255,
                                                 power_factors=(0.5, 0.5), filter_size=5,
                                                 filter_sigma=1.0)
    out["ssim_map"] = tf.image.ssim(a, b, 1.0, return_index_map=True)
    out["tv3"] = tf.image.total_variation(tf.constant(a[0]))
    out["tv4"] = tf.image.total_variation(tf.constant(a))
    out["grads"] = list(tf.image.image_gradients(tf.constant(a[:, :5, :4])))
    out["sobel"] = tf.image.sobel_edges(tf.constant(a[:, :6, :5]))
    for n in ("rgb_to_yiq", "yiq_to_rgb", "rgb_to_yuv", "yuv_to_rgb"):
        out[n] = getattr(tf.image, n)(tf.constant(a[0, :4]))
    img = rng.uniform(0, 255, (7, 12, 3)).astype(np.float32)
    out["pad1"] = tf.image.resize_image_with_pad(img, 10, 10)
    out["pad2"] = tf.image.resize_image_with_pad(img[None], 9, 30, method=1)
    out["pad3"] = tf.image.resize_image_with_pad(img, 5, 6)
    jpg = b"\xff\xd8\xff\xe0rest"
    out["isj"] = [tf.image.is_jpeg(tf.constant(jpg)), tf.image.is_jpeg(tf.constant(b"\x89PNG")),
                  tf.io.is_jpeg(tf.constant(b""))]
    return out


def build_cross(tf):
    """tf.sparse.cross_hashed over string, int64 and mixed, sparse and dense features."""
    s1 = tf.SparseTensor([[0, 0], [0, 1], [1, 0], [2, 0]],
                         tf.constant([b"a", b"bcd", b"x" * 40, b"hello world!"]), [3, 2])
    s2 = tf.SparseTensor([[0, 0], [1, 0], [1, 1], [2, 0]],
                         tf.constant([3, -7, 123456789012, 0], tf.int64), [3, 2])
    d = tf.constant([[b"u", b"v"], [b"w", b""], [b"long string " * 6, b"z"]])
    di = tf.constant([[5], [6], [-1]], tf.int32)
    out = {}
    out["ss"] = tf.sparse.cross_hashed([s1, s2])
    out["ss_b"] = tf.sparse.cross_hashed([s1, s2], num_buckets=1000)
    out["sd_key"] = tf.sparse.cross_hashed([s1, d], num_buckets=97, hash_key=12345)
    out["sdi"] = tf.sparse.cross_hashed([s2, di, d])
    out["single"] = tf.sparse.cross_hashed([s1])
    return out


def build_resize(tf):
    """resize_bicubic (both mappings, and its gradient) and resize_area."""
    rng = np.random.default_rng(5)
    img = rng.uniform(0, 255, (2, 5, 7, 2)).astype(np.float32)
    u8 = rng.integers(0, 255, (1, 6, 4, 3)).astype(np.uint8)
    out = {}
    for ac, hp in ((False, False), (True, False), (False, True)):
        for size in ((9, 11), (3, 4), (5, 7)):
            k = f"bicubic_{int(ac)}{int(hp)}_{size[0]}x{size[1]}"
            out[k] = tf.image.resize_bicubic(img, size, align_corners=ac, half_pixel_centers=hp)
    for ac in (False, True):
        for size in ((9, 11), (3, 4), (2, 3)):
            out[f"area_{int(ac)}_{size[0]}x{size[1]}"] = tf.image.resize_area(img, size,
                                                                             align_corners=ac)
    out["area_u8"] = tf.image.resize_area(u8, [4, 3])
    out["images_bicubic"] = tf.image.resize_images(img[0], [4, 9], method=2)
    out["images_area"] = tf.image.resize_images(img, [3, 3], method=3, align_corners=True)
    out["bicubic_u8"] = tf.image.resize_bicubic(u8, [8, 5])
    x = tf.constant(img.astype(np.float64))
    y = tf.image.resize_bicubic(x, [8, 6])
    w = tf.constant(rng.normal(size=(2, 8, 6, 2)).astype(np.float32))
    out["bicubic_grad"] = tf.gradients(tf.reduce_sum(y * w), x)[0]
    y2 = tf.image.resize_bicubic(x, [4, 3], half_pixel_centers=True)
    out["bicubic_grad_hp"] = tf.gradients(tf.reduce_sum(y2 * w[:, :4, :3]), x)[0]
    return out


def build_morphology(tf):
    """dilation2d and erosion2d (strides, rates, both paddings) and dilation2d's gradients."""
    rng = np.random.default_rng(6)
    images = rng.normal(size=(2, 7, 6, 3)).astype(np.float32)
    kernel = rng.normal(size=(3, 2, 3)).astype(np.float32)
    out = {}
    for padding in ("SAME", "VALID"):
        for strides, rates in (([1, 1, 1, 1], [1, 1, 1, 1]), ([1, 2, 1, 1], [1, 1, 2, 1]),
                               ([1, 3, 2, 1], [1, 2, 2, 1])):
            key = f"{padding}_{strides[1]}{strides[2]}_{rates[1]}{rates[2]}"
            out["dilation_" + key] = tf.nn.dilation2d(images, kernel, strides, rates, padding)
            out["erosion_" + key] = tf.nn.erosion2d(images, kernel, strides, rates, padding)
    out["dilation_int"] = tf.nn.dilation2d((images * 10).astype(np.int32),
                                           (kernel * 10).astype(np.int32), [1, 1, 1, 1],
                                           [1, 1, 1, 1], "SAME")
    x = tf.constant(images.astype(np.float64))
    k = tf.constant(kernel.astype(np.float64))
    weights = rng.normal(size=(2, 4, 3, 3))
    y = tf.nn.dilation2d(x, k, [1, 2, 2, 1], [1, 1, 1, 1], "SAME")
    out["dilation_grads"] = tf.gradients(tf.reduce_sum(y * weights), [x, k])
    return out


def build_combined_nms(tf):
    """combined_non_max_suppression: shared and per-class boxes, padding and clipping."""
    rng = np.random.default_rng(7)
    corners = rng.uniform(-0.1, 0.9, (2, 8, 3, 2)).astype(np.float32)
    sizes = rng.uniform(0.05, 0.4, (2, 8, 3, 2)).astype(np.float32)
    boxes = np.concatenate([corners, corners + sizes], -1)
    # Distinct scores: the order among equal scores is unspecified in TF.
    scores = (rng.permutation(2 * 8 * 3).reshape(2, 8, 3) / 48.0).astype(np.float32)
    out = {}
    out["per_class"] = list(tf.image.combined_non_max_suppression(
        boxes, scores, 3, 5, iou_threshold=0.3, score_threshold=0.1))
    out["shared"] = list(tf.image.combined_non_max_suppression(
        boxes[:, :, :1], scores, 2, 10, iou_threshold=0.5, clip_boxes=False))
    out["pad"] = list(tf.image.combined_non_max_suppression(
        boxes, scores, 2, 20, iou_threshold=0.2, pad_per_class=True))
    overlaps = rng.uniform(0, 1, (9, 9)).astype(np.float32)
    flat_scores = scores[0, :, 0].tolist() + [0.05]
    out["overlaps"] = tf.image.non_max_suppression_overlaps(overlaps, flat_scores, 5, 0.6)
    out["overlaps_threshold"] = tf.image.non_max_suppression_overlaps(
        overlaps, flat_scores, 9, overlap_threshold=0.8, score_threshold=0.2)
    # extract_glimpse windows inside the image (the fill outside is random noise in TF).
    image = np.arange(2 * 6 * 7 * 2, dtype=np.float32).reshape(2, 6, 7, 2)
    for index, (centered, normalized, offsets) in enumerate((
            (True, True, [[0.0, 0.0], [0.5, -0.5]]), (False, False, [[1.0, 2.0], [3.3, 4.6]]),
            (True, False, [[-1.5, 0.5], [2.0, 1.0]]))):
        out[f"glimpse_{index}"] = tf.image.extract_glimpse(
            image, [3, 4], offsets, centered=centered, normalized=normalized)
    for seed in range(4):
        corners = rng.uniform(0, 1, (30, 2)).astype(np.float32)
        ends = corners + rng.uniform(0.05, 0.5, (30, 2)).astype(np.float32)
        # Odd seeds give the corners in the other diagonal order.
        flat_boxes = np.concatenate([ends, corners] if seed % 2 else [corners, ends], 1)
        box_scores = (rng.permutation(30) / 30.0).astype(np.float32)
        for pad in (False, True):
            out[f"padded_{seed}_{pad}"] = list(tf.image.non_max_suppression_padded(
                tf.constant(flat_boxes), tf.constant(box_scores), 8 + seed, 0.3 + 0.1 * seed,
                score_threshold=0.2 if seed > 1 else float("-inf"),
                pad_to_max_output_size=pad))
    return out


BUILDERS = {"nms": build_combined_nms, "morphology": build_morphology, "resize": build_resize,
            "cross": build_cross, "nn": build_nn, "embeddings": build_embeddings,
            "image": build_image}


def _flatten(results):
    flat = {}
    for name, value in results.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for index, item in enumerate(values):
            flat[f"{name}/{index}"] = np.asarray(item)
    return flat


def run_family(tf, family):
    with tf.Graph().as_default():
        fetches = BUILDERS[family](tf)
        with tf.Session() as session:
            return _flatten(session.run(fetches))


def _generate():
    """Writes DATA from TensorFlow (run this file with TF's Python)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as tf

    tf.disable_eager_execution()
    arrays = {}
    for family in BUILDERS:
        for key, value in run_family(tf, family).items():
            arrays[f"{family}:{key}"] = value
    np.savez_compressed(DATA, **arrays)
    print(f"wrote {len(arrays)} arrays to {DATA}")


if __name__ == "__main__":
    sys.exit(_generate())

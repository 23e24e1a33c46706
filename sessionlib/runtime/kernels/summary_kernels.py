"""Kernels of the summary ops (``sessionlib/ops/summary_ops.py``): each builds one `Summary`
proto and outputs it serialized, as a scalar string.

Design. The work is small and per step, so the reference kernels are the only ones, numpy plus
the protobuf runtime. What must match TF exactly does:

* Histograms use TF's default buckets (tsl ``histogram.cc``): limits growing by 10 % from
  1e-12 to 1e20, mirrored for negative values, with 0 between and +-DBL_MAX at the ends. A
  value lands in the first bucket whose limit exceeds it (``upper_bound``), and runs of empty
  buckets are collapsed into one entry when encoding, as TF does.
* Images are PNG (written here with ``zlib`` and ``struct``: no imaging library). Float images
  are scaled per image as TF scales them: all finite values >= 0 map by ``255 / max``, else by
  ``127 / max|v|`` around 128, truncated to uint8; a pixel with any non-finite channel gets
  `bad_color`.
* Audio is 16-bit PCM WAV: samples times 32768, rounded, clipped to int16 (TF's ``wav_io``).
* Tags: ``tag/image`` when ``max_images`` is 1, else ``tag/image/<i>`` (the attr decides, not
  the batch), likewise ``tag/audio``.
"""

import struct
import sys
import zlib

import numpy as np

from sessionlib.framework import tensor_util
from sessionlib.protos import summary_pb2
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument

__all__ = ["default_bucket_limits", "histogram_proto", "encode_png", "encode_wav"]


def _scalar_string(value):
    array = np.empty((), dtype=object)
    array[()] = value
    return array


def _text(value):
    """A string tensor element (bytes or str) as str."""
    if isinstance(value, np.ndarray):
        value = value.reshape(()).item() if value.size == 1 else value
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _shape_string(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def _single_tag(tag):
    return f" (tag '{_text(tag)}')" if np.ndim(tag) == 0 else ""


def _scalar_tag(tag):
    if np.ndim(tag) != 0:
        raise invalid_argument(f"tag must be scalar, got shape {_shape_string(np.shape(tag))}")
    return _text(tag)


# ---- scalars --------------------------------------------------------------------------------

def _scalar_summary_kernel(ctx, inputs, attrs):
    tags, values = inputs
    if np.shape(tags) != np.shape(values):
        raise invalid_argument(f"tags and values are not the same shape: "
                               f"{_shape_string(np.shape(tags))} != "
                               f"{_shape_string(np.shape(values))}{_single_tag(tags)}")
    summary = summary_pb2.Summary()
    flat_values = np.asarray(values).reshape(-1)
    for tag, value in zip(np.asarray(tags, dtype=object).reshape(-1), flat_values):
        summary.value.add(tag=_text(tag), simple_value=float(value))
    return (_scalar_string(summary.SerializeToString()),)


# ---- histograms -----------------------------------------------------------------------------

def _make_default_bucket_limits():
    # The same double arithmetic as TF's loop, so the limits are bit for bit TF's.
    positive = []
    value = 1.0e-12
    while value < 1.0e20:
        positive.append(value)
        value *= 1.1
    positive.append(sys.float_info.max)
    negative = [-limit for limit in reversed(positive)]
    return np.array(negative + [0.0] + positive, dtype=np.float64)


_DEFAULT_LIMITS = _make_default_bucket_limits()


def default_bucket_limits():
    """TF's default histogram bucket limits, a float64 array (a copy)."""
    return _DEFAULT_LIMITS.copy()


def histogram_proto(values, bucket_limits=None):
    """A `HistogramProto` of `values`, encoded as TF encodes it.

    Args:
      values: finite numbers (any shape), cast to float64.
      bucket_limits: increasing bucket limits ending in DBL_MAX; default TF's.

    Returns:
      The `HistogramProto`: min, max, num, sum, sum_squares, and the buckets with runs of
      empty ones collapsed (for no values: min DBL_MAX, max -DBL_MAX, one empty bucket).
    """
    limits = _DEFAULT_LIMITS if bucket_limits is None else np.asarray(bucket_limits, np.float64)
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    proto = summary_pb2.HistogramProto()
    if flat.size:
        proto.min = float(flat.min())
        proto.max = float(flat.max())
    else:
        proto.min = float(limits[-1])
        proto.max = -sys.float_info.max
    proto.num = float(flat.size)
    proto.sum = float(flat.sum())
    proto.sum_squares = float(np.dot(flat, flat))
    # upper_bound: the first limit strictly greater than the value.
    counts = np.bincount(np.searchsorted(limits, flat, side="right"),
                         minlength=len(limits))[:len(limits)]
    out_limits, out_counts = [], []
    i, n = 0, len(limits)
    nonzero = np.flatnonzero(counts)
    # Walk the non-empty buckets; each run of empty ones before a non-empty bucket becomes
    # one entry at the run's last limit (TF's EncodeToProto without preserve_zero_buckets).
    for index in nonzero:
        if index > i:
            out_limits.append(limits[index - 1])
            out_counts.append(0.0)
        out_limits.append(limits[index])
        out_counts.append(float(counts[index]))
        i = index + 1
    if i < n:
        out_limits.append(limits[n - 1])
        out_counts.append(0.0)
    proto.bucket_limit.extend(float(limit) for limit in out_limits)
    proto.bucket.extend(out_counts)
    return proto


def _histogram_summary_kernel(ctx, inputs, attrs):
    tag, values = inputs
    name = _scalar_tag(tag)
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(flat)):
        raise invalid_argument(f"Nan in summary histogram for: {name}")
    summary = summary_pb2.Summary()
    summary.value.add(tag=name, histo=histogram_proto(flat))
    return (_scalar_string(summary.SerializeToString()),)


# ---- images ---------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour types by channel count: grey, grey+alpha, RGB, RGBA.
_PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}


def _png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(image, compression=-1):
    """PNG bytes of an 8-bit image.

    Args:
      image: a uint8 ``[height, width, channels]`` array, channels 1 to 4.
      compression: the zlib level; -1 for zlib's default.

    Returns:
      The PNG file's bytes (filter type 0 on every row).
    """
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width, channels = image.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[channels], 0, 0, 0)
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 1:] = image.reshape(height, width * channels)
    return b"".join((_PNG_SIGNATURE, _png_chunk(b"IHDR", header),
                     _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), compression)),
                     _png_chunk(b"IEND", b"")))


def _normalize_float_image(image, bad_color):
    """One float image as uint8, scaled as TF's ``NormalizeFloatImage``."""
    values = image.astype(np.float32)
    pixel_finite = np.all(np.isfinite(values), axis=-1)
    finite_values = values[np.isfinite(values)]
    image_min = float(finite_values.min()) if finite_values.size else np.inf
    image_max = float(finite_values.max()) if finite_values.size else -np.inf
    zero_threshold = 1e-6
    if image_min < 0:
        max_val = max(abs(image_min), abs(image_max))
        scale = np.float32(0.0 if max_val < zero_threshold else 127.0 / max_val)
        offset = np.float32(128.0)
    else:
        scale = np.float32(0.0 if image_max < zero_threshold else 255.0 / image_max)
        offset = np.float32(0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        # The float -> uint8 cast truncates, as C++'s does for values in range.
        scaled = np.where(np.isfinite(values), values * scale + offset, 0.0)
        out = np.clip(scaled, 0, 255).astype(np.uint8)
    out[~pixel_finite] = bad_color
    return out


def _image_summary_kernel(ctx, inputs, attrs):
    tag, tensor = inputs
    base = _scalar_tag(tag)
    if tensor.ndim != 4 or tensor.shape[-1] not in (1, 3, 4):
        raise invalid_argument(f"Tensor must be 4-D with last dim 1, 3, or 4, not "
                               f"{_shape_string(tensor.shape)}")
    batch, height, width, channels = tensor.shape
    if height <= 0 or width <= 0 or height >= 2 ** 29 or width >= 2 ** 29:
        raise invalid_argument(f"Image must have positive size no larger than 2^29, got "
                               f"{height} x {width}")
    max_images = int(attrs.get("max_images", 3))
    bad_color = np.asarray(attrs.get("bad_color", [255, 0, 0, 255]), dtype=np.uint8).reshape(-1)
    if bad_color.size < channels:
        raise invalid_argument(f"bad_color must have at least {channels} channels, got "
                               f"{bad_color.size}")
    summary = summary_pb2.Summary()
    for i in range(min(batch, max_images)):
        image = tensor[i]
        if image.dtype != np.uint8:
            image = _normalize_float_image(image, bad_color[:channels])
        value = summary.value.add(tag=f"{base}/image/{i}" if max_images > 1
                                  else f"{base}/image")
        value.image.height = height
        value.image.width = width
        value.image.colorspace = channels
        value.image.encoded_image_string = encode_png(image)
    return (_scalar_string(summary.SerializeToString()),)


# ---- audio ----------------------------------------------------------------------------------

def encode_wav(samples, sample_rate):
    """A 16-bit PCM WAV file of float samples.

    Args:
      samples: a float ``[frames, channels]`` array; values outside [-1, 1] are clipped.
      sample_rate: frames per second (an int in the header).

    Returns:
      The WAV file's bytes.
    """
    frames, channels = samples.shape
    scaled = samples.astype(np.float32).astype(np.float64) * 32768.0
    # C's roundf: halves away from zero (numpy's round goes to even).
    rounded = np.copysign(np.floor(np.abs(scaled) + 0.5), scaled)
    pcm = np.clip(rounded, -32768, 32767).astype("<i2")
    data = pcm.tobytes()
    rate = int(sample_rate)
    header = b"".join((
        b"RIFF", struct.pack("<I", 36 + len(data)), b"WAVE",
        b"fmt ", struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * 2,
                             channels * 2, 16),
        b"data", struct.pack("<I", len(data))))
    return header + data


def _audio_summary_kernel(ctx, inputs, attrs):
    tag, tensor, sample_rate = inputs
    base = _scalar_tag(tag)
    if np.ndim(sample_rate) != 0:
        raise invalid_argument(f"sample_rate must be rank 0 (got "
                               f"{_shape_string(np.shape(sample_rate))})")
    rate = float(sample_rate)
    if rate <= 0:
        raise invalid_argument("sample_rate must be > 0")
    if tensor.ndim not in (2, 3):
        raise invalid_argument(f"Tensor must be 3-D or 2-D, got: {_shape_string(tensor.shape)}")
    if tensor.ndim == 2:
        tensor = tensor[:, :, None]
    batch, frames, channels = tensor.shape
    max_outputs = int(attrs.get("max_outputs", 3))
    summary = summary_pb2.Summary()
    for i in range(min(batch, max_outputs)):
        value = summary.value.add(tag=f"{base}/audio/{i}" if max_outputs > 1
                                  else f"{base}/audio")
        value.audio.sample_rate = rate
        value.audio.num_channels = channels
        value.audio.length_frames = frames
        value.audio.content_type = "audio/wav"
        value.audio.encoded_audio_string = encode_wav(tensor[i], rate)
    return (_scalar_string(summary.SerializeToString()),)


# ---- tensors and merging --------------------------------------------------------------------

def _tensor_summary_kernel(ctx, inputs, attrs):
    tag, tensor, metadata = inputs
    summary = summary_pb2.Summary()
    value = summary.value.add(tag=_scalar_tag(tag))
    raw_metadata = np.asarray(metadata, dtype=object).reshape(()).item()
    if isinstance(raw_metadata, str):
        raw_metadata = raw_metadata.encode("utf-8")
    try:
        value.metadata.ParseFromString(raw_metadata)
    except Exception:  # noqa: BLE001 - protobuf's DecodeError varies by backend
        raise invalid_argument("Could not parse serialized_summary_metadata") from None
    value.tensor.CopyFrom(tensor_util.make_tensor_proto(np.asarray(tensor)))
    return (_scalar_string(summary.SerializeToString()),)


def _merge_summary_kernel(ctx, inputs, attrs):
    merged = summary_pb2.Summary()
    seen = set()
    part = summary_pb2.Summary()
    for tensor in inputs:
        for raw in np.asarray(tensor, dtype=object).reshape(-1):
            if isinstance(raw, str):
                raw = raw.encode("utf-8")
            part.Clear()
            try:
                part.ParseFromString(raw)
            except Exception:  # noqa: BLE001 - protobuf's DecodeError varies by backend
                raise invalid_argument("Could not parse one of the summary inputs") from None
            for value in part.value:
                if value.tag in seen:
                    raise invalid_argument(f"Duplicate tag {value.tag} found in summary "
                                           "inputs")
                seen.add(value.tag)
                merged.value.add().CopyFrom(value)
    return (_scalar_string(merged.SerializeToString()),)


register_kernel("ScalarSummary", reference=_scalar_summary_kernel)
register_kernel("HistogramSummary", reference=_histogram_summary_kernel)
register_kernel("ImageSummary", reference=_image_summary_kernel)
register_kernel("AudioSummaryV2", reference=_audio_summary_kernel)
register_kernel("TensorSummaryV2", reference=_tensor_summary_kernel)
register_kernel("MergeSummary", reference=_merge_summary_kernel)

"""Summary ops: ``ScalarSummary``, ``HistogramSummary``, ``ImageSummary``, ``AudioSummaryV2``,
``TensorSummaryV2`` and ``MergeSummary``.

Each op outputs one scalar string: a serialized `Summary` proto, the bytes a `FileWriter`
stores and TensorBoard reads. The ops have TF's names, inputs and attrs, so a GraphDef that
holds them imports in TF and shows in TensorBoard as TF's own. None has a gradient.

This module holds the registrations and one builder per op (TF's ``gen_logging_ops``
functions); the TF1 API (`tf.summary.scalar` & co., with tags, families and collections) is in
``sessionlib/summary/summary.py``. The kernels, with the histogram buckets and the PNG and WAV
encoders, are in ``runtime/kernels/summary_kernels.py``: this module never imports them.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer

__all__ = ["scalar_summary", "histogram_summary", "image_summary", "audio_summary_v2",
           "tensor_summary_v2", "merge_summary"]

_REAL_DTYPES = dtypes.NUMERIC_DTYPES
_IMAGE_DTYPES = (dtypes.uint8, dtypes.float32, dtypes.float16, dtypes.float64)
# TF's default colour for non-finite pixels: opaque red, cut to the image's channels.
_DEFAULT_BAD_COLOR = np.array([255, 0, 0, 255], dtype=np.uint8)

_SCALAR_STRING = [(dtypes.string, TensorShape([]))]


def _check_tag(op_type, tag, arg="tag"):
    _infer.check_dtype(op_type, tag, (dtypes.string,), arg)


def _scalar_infer(inputs, attrs):
    tags, values = inputs
    _check_tag("ScalarSummary", tags, "tags")
    _infer.check_dtype("ScalarSummary", values, _REAL_DTYPES, "values")
    attrs["T"] = values.dtype
    return _SCALAR_STRING


def _histogram_infer(inputs, attrs):
    tag, values = inputs
    _check_tag("HistogramSummary", tag)
    _infer.check_dtype("HistogramSummary", values, _REAL_DTYPES, "values")
    attrs["T"] = values.dtype
    return _SCALAR_STRING


def _image_infer(inputs, attrs):
    tag, tensor = inputs
    _check_tag("ImageSummary", tag)
    _infer.check_dtype("ImageSummary", tensor, _IMAGE_DTYPES, "tensor")
    attrs["T"] = tensor.dtype
    max_images = attrs.setdefault("max_images", 3)
    if max_images < 1:
        raise ValueError(f"Value for attr 'max_images' of {max_images} must be at least "
                         "minimum 1")
    attrs.setdefault("bad_color", _DEFAULT_BAD_COLOR.copy())
    return _SCALAR_STRING


def _audio_infer(inputs, attrs):
    tag, tensor, sample_rate = inputs
    _check_tag("AudioSummaryV2", tag)
    _infer.check_dtype("AudioSummaryV2", tensor, (dtypes.float32,), "tensor")
    _infer.check_dtype("AudioSummaryV2", sample_rate, (dtypes.float32,), "sample_rate")
    max_outputs = attrs.setdefault("max_outputs", 3)
    if max_outputs < 1:
        raise ValueError(f"Value for attr 'max_outputs' of {max_outputs} must be at least "
                         "minimum 1")
    return _SCALAR_STRING


def _tensor_summary_infer(inputs, attrs):
    tag, tensor, metadata = inputs
    _check_tag("TensorSummaryV2", tag)
    _check_tag("TensorSummaryV2", metadata, "serialized_summary_metadata")
    attrs["T"] = tensor.dtype
    return _SCALAR_STRING


def _merge_infer(inputs, attrs):
    if not inputs:
        raise ValueError("MergeSummary needs at least one input")
    for tensor in inputs:
        _check_tag("MergeSummary", tensor, "inputs")
    attrs["N"] = len(inputs)
    return _SCALAR_STRING


for _op_type, _infer_fn, _num_inputs, _doc in (
        ("ScalarSummary", _scalar_infer, 2,
         "A Summary of scalar values, one per tag."),
        ("HistogramSummary", _histogram_infer, 2,
         "A Summary holding a histogram of the values (TF's default buckets)."),
        ("ImageSummary", _image_infer, 2,
         "A Summary of up to max_images PNG-encoded images."),
        ("AudioSummaryV2", _audio_infer, 3,
         "A Summary of up to max_outputs WAV-encoded audio clips."),
        ("TensorSummaryV2", _tensor_summary_infer, 3,
         "A Summary holding a whole tensor, with plugin metadata."),
        ("MergeSummary", _merge_infer, None,
         "The union of serialized Summary protos; a repeated tag is an error.")):
    registry.register_op(_op_type, infer=_infer_fn, kernel=_op_type, num_inputs=_num_inputs,
                         doc=_doc, gradient=registry.NOT_DIFFERENTIABLE)


def _graph_of(*values):
    for value in values:
        if isinstance(value, graph_lib.Tensor):
            return value.graph
    return graph_lib.get_default_graph()


def _string(value, name, graph):
    return graph_lib.convert_to_tensor(value, dtype=dtypes.string, name=name, graph=graph)


def _input(value, name, graph, dtype=None):
    return graph_lib.convert_to_tensor(value, dtype=dtype, name=name, graph=graph)


def scalar_summary(tags, values, name=None):
    """Op ``ScalarSummary``: a Summary with one ``simple_value`` per element of `values`.

    Args:
      tags: a string tensor of `values`' shape (checked when the op runs).
      values: a real-valued tensor.
      name: the op name.

    Returns:
      A scalar string Tensor, the serialized Summary.
    """
    graph = _graph_of(tags, values)
    with graph.as_default():
        values_t = _input(values, "values", graph)
        tags_t = _string(tags, "tags", graph)
        return graph.create_op("ScalarSummary", [tags_t, values_t], name=name).outputs[0]


def histogram_summary(tag, values, name=None):
    """Op ``HistogramSummary``: a Summary with a histogram of all elements of `values`.

    Args:
      tag: a scalar string tensor.
      values: a real-valued tensor of any shape; a NaN or Inf is an error when the op runs.
      name: the op name.

    Returns:
      A scalar string Tensor, the serialized Summary.
    """
    graph = _graph_of(tag, values)
    with graph.as_default():
        values_t = _input(values, "values", graph)
        tag_t = _string(tag, "tag", graph)
        return graph.create_op("HistogramSummary", [tag_t, values_t], name=name).outputs[0]


def image_summary(tag, tensor, max_images=3, bad_color=None, name=None):
    """Op ``ImageSummary``: a Summary with up to `max_images` PNG images.

    Args:
      tag: a scalar string tensor; the values are tagged ``tag/image`` (``max_images`` 1) or
        ``tag/image/<i>``.
      tensor: a 4-D ``[batch, height, width, channels]`` tensor with 1, 3 or 4 channels:
        uint8 as is, or float, scaled into [0, 255] per image (see the kernel).
      max_images: the most images to keep, >= 1.
      bad_color: the uint8 colour of non-finite pixels (default opaque red).
      name: the op name.

    Returns:
      A scalar string Tensor, the serialized Summary.
    """
    graph = _graph_of(tag, tensor)
    with graph.as_default():
        tensor_t = _input(tensor, "tensor", graph)
        tag_t = _string(tag, "tag", graph)
        attrs = {"max_images": int(max_images)}
        if bad_color is not None:
            attrs["bad_color"] = np.asarray(bad_color, dtype=np.uint8).reshape(-1)
        return graph.create_op("ImageSummary", [tag_t, tensor_t], attrs,
                               name=name).outputs[0]


def audio_summary_v2(tag, tensor, sample_rate, max_outputs=3, name=None):
    """Op ``AudioSummaryV2``: a Summary with up to `max_outputs` WAV clips.

    Args:
      tag: a scalar string tensor; the values are tagged ``tag/audio`` (``max_outputs`` 1) or
        ``tag/audio/<i>``.
      tensor: a float32 ``[batch, frames]`` or ``[batch, frames, channels]`` tensor of
        samples in [-1, 1] (others are clipped).
      sample_rate: a scalar float32 tensor, in Hz.
      max_outputs: the most clips to keep, >= 1.
      name: the op name.

    Returns:
      A scalar string Tensor, the serialized Summary.
    """
    graph = _graph_of(tag, tensor, sample_rate)
    with graph.as_default():
        tensor_t = _input(tensor, "tensor", graph)
        tag_t = _string(tag, "tag", graph)
        rate_t = _input(sample_rate, "sample_rate", graph, dtypes.float32)
        return graph.create_op("AudioSummaryV2", [tag_t, tensor_t, rate_t],
                               {"max_outputs": int(max_outputs)}, name=name).outputs[0]


def tensor_summary_v2(tag, tensor, serialized_summary_metadata, name=None):
    """Op ``TensorSummaryV2``: a Summary holding `tensor` as a TensorProto.

    Args:
      tag: a scalar string tensor.
      tensor: any tensor.
      serialized_summary_metadata: a scalar string tensor, a serialized `SummaryMetadata`.
      name: the op name.

    Returns:
      A scalar string Tensor, the serialized Summary.
    """
    graph = _graph_of(tag, tensor)
    with graph.as_default():
        tensor_t = _input(tensor, "tensor", graph)
        tag_t = _string(tag, "tag", graph)
        metadata_t = _string(serialized_summary_metadata, "serialized_summary_metadata",
                             graph)
        return graph.create_op("TensorSummaryV2", [tag_t, tensor_t, metadata_t],
                               name=name).outputs[0]


def merge_summary(inputs, name=None):
    """Op ``MergeSummary``: the union of the values of serialized Summary protos.

    Args:
      inputs: a non-empty list of string tensors, each holding serialized Summaries.
      name: the op name.

    Returns:
      A scalar string Tensor, the serialized merged Summary.
    """
    inputs = list(inputs)
    graph = _graph_of(*inputs)
    with graph.as_default():
        tensors = [_string(value, "inputs", graph) for value in inputs]
        return graph.create_op("MergeSummary", tensors, name=name).outputs[0]

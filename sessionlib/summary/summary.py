"""TF1's summary functions: `scalar`, `histogram`, `image`, `audio`, `text`, `tensor_summary`,
`merge` and `merge_all`.

Each function opens TF's summary scope, builds one op of ``ops/summary_ops.py`` named after the
scope, and adds it to its collections (``GraphKeys.SUMMARIES`` unless `collections` says
otherwise), so `merge_all` finds it. Names and tags follow TF1 exactly:

* the name is cleaned (characters other than ``[-/\\w.]`` become ``_``, leading ``/`` go);
* the scope is ``name`` (or ``family/name``) made unique, so a second ``scalar('loss')`` is op
  ``loss_1`` with tag ``loss_1``;
* with a family the tag is ``family/<scope>``, e.g. ``fam/fam/loss`` (``fam`` is the tab
  TensorBoard shows it in), and an outer name scope appears inside it:
  ``fam/outer/fam/loss``.
"""

import re

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.ops import summary_ops
from sessionlib.protos import summary_pb2

__all__ = ["scalar", "histogram", "image", "audio", "text", "tensor_summary", "merge",
           "merge_all", "get_summary_description"]

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def _clean_tag(name):
    """`name` with the characters TF does not allow in tags replaced (TF's ``clean_tag``)."""
    if name is None:
        return None
    return _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")


def _graph_of(values):
    for value in values:
        if isinstance(value, graph_lib.Tensor):
            return value.graph
    return graph_lib.get_default_graph()


class _SummaryScope:
    """TF's ``summary_scope``: enters the summary's name scope; yields (tag, scope)."""

    def __init__(self, name, family, values):
        self._name = _clean_tag(name)
        self._family = _clean_tag(family)
        self._graph = _graph_of(values)
        self._stack = []

    def __enter__(self):
        base = self._name if self._family is None else f"{self._family}/{self._name}"
        as_default = self._graph.as_default()
        scope_cm = self._graph.name_scope(base)
        as_default.__enter__()
        try:
            scope = scope_cm.__enter__()
        except BaseException:
            as_default.__exit__(None, None, None)
            raise
        self._stack = [scope_cm, as_default]
        tag = scope.rstrip("/")
        if self._family is not None:
            tag = f"{self._family}/{tag}"
        return tag, scope

    def __exit__(self, *exc_info):
        for context in self._stack:
            context.__exit__(*exc_info)
        self._stack = []
        return False


def _collect(value, collections, default_collections):
    graph = value.graph
    for key in (default_collections if collections is None else collections):
        graph.add_to_collection(key, value)


def scalar(name, tensor, collections=None, family=None):
    """A summary of one real number (op ``ScalarSummary``).

    Args:
      name: the summary's name; also the op's name, made unique, and its tag.
      tensor: a real-valued scalar tensor (a non-scalar is an error when the op runs).
      collections: graph collections to add the op to; default ``[GraphKeys.SUMMARIES]``.
      family: an optional prefix for the tag, the tab TensorBoard shows it in.

    Returns:
      A scalar string Tensor: the serialized `Summary`.
    """
    with _SummaryScope(name, family, [tensor]) as (tag, scope):
        value = summary_ops.scalar_summary(tag, tensor, name=scope)
    _collect(value, collections, [GraphKeys.SUMMARIES])
    return value


def histogram(name, values, collections=None, family=None):
    """A histogram of all elements of `values` (op ``HistogramSummary``), with TF's default
    exponential buckets.

    Args:
      name: the summary's name (see `scalar`).
      values: a real-valued tensor of any shape; NaN or Inf is an error when the op runs.
      collections: graph collections; default ``[GraphKeys.SUMMARIES]``.
      family: an optional tag prefix.

    Returns:
      A scalar string Tensor: the serialized `Summary`.
    """
    with _SummaryScope(name, family, [values]) as (tag, scope):
        value = summary_ops.histogram_summary(tag, values, name=scope)
    _collect(value, collections, [GraphKeys.SUMMARIES])
    return value


def image(name, tensor, max_outputs=3, collections=None, family=None):
    """Up to `max_outputs` images as PNG (op ``ImageSummary``).

    uint8 images are kept as they are; float ones are scaled per image: with no negative
    values so that the largest becomes 255, else so that the largest magnitude spans 127
    around 128. Non-finite pixels are red. The values are tagged ``<tag>/image/<i>``, or
    ``<tag>/image`` when `max_outputs` is 1.

    Args:
      name: the summary's name (see `scalar`).
      tensor: a ``[batch, height, width, channels]`` uint8/float tensor, 1, 3 or 4 channels.
      max_outputs: the most images to keep.
      collections: graph collections; default ``[GraphKeys.SUMMARIES]``.
      family: an optional tag prefix.

    Returns:
      A scalar string Tensor: the serialized `Summary`.
    """
    with _SummaryScope(name, family, [tensor]) as (tag, scope):
        value = summary_ops.image_summary(tag, tensor, max_images=max_outputs, name=scope)
    _collect(value, collections, [GraphKeys.SUMMARIES])
    return value


def audio(name, tensor, sample_rate, max_outputs=3, collections=None, family=None):
    """Up to `max_outputs` audio clips as 16-bit WAV (op ``AudioSummaryV2``).

    Args:
      name: the summary's name (see `scalar`).
      tensor: a float32 ``[batch, frames]`` or ``[batch, frames, channels]`` tensor of samples
        in [-1, 1].
      sample_rate: the sample rate in Hz, a scalar (float32 tensor or number).
      max_outputs: the most clips to keep; tags as for `image` (``<tag>/audio/<i>``).
      collections: graph collections; default ``[GraphKeys.SUMMARIES]``.
      family: an optional tag prefix.

    Returns:
      A scalar string Tensor: the serialized `Summary`.
    """
    with _SummaryScope(name, family, [tensor]) as (tag, scope):
        graph = graph_lib.get_default_graph()
        rate = graph_lib.convert_to_tensor(sample_rate, dtype=dtypes.float32,
                                           name="sample_rate", graph=graph)
        value = summary_ops.audio_summary_v2(tag, tensor, rate, max_outputs=max_outputs,
                                             name=scope)
    _collect(value, collections, [GraphKeys.SUMMARIES])
    return value


def _as_metadata(summary_metadata):
    if summary_metadata is None:
        return summary_pb2.SummaryMetadata()
    if isinstance(summary_metadata, summary_pb2.SummaryMetadata):
        copy = summary_pb2.SummaryMetadata()
        copy.CopyFrom(summary_metadata)
        return copy
    if hasattr(summary_metadata, "SerializeToString"):  # e.g. TF's own proto class
        return summary_pb2.SummaryMetadata.FromString(summary_metadata.SerializeToString())
    raise TypeError(f"summary_metadata must be a SummaryMetadata proto, got "
                    f"{type(summary_metadata).__name__}")


def tensor_summary(name, tensor, summary_description=None, collections=None,
                   summary_metadata=None, family=None, display_name=None):
    """A summary holding a whole tensor (op ``TensorSummaryV2``).

    Args:
      name: the summary's name (see `scalar`).
      tensor: a tensor of any dtype and shape.
      summary_description: stored in the metadata's ``summary_description``.
      collections: graph collections; default ``[GraphKeys.SUMMARIES]``.
      summary_metadata: a `SummaryMetadata` (e.g. naming the plugin that renders it).
      family: an optional tag prefix.
      display_name: stored in the metadata's ``display_name``.

    Returns:
      A scalar string Tensor: the serialized `Summary`.
    """
    metadata = _as_metadata(summary_metadata)
    if summary_description is not None:
        metadata.summary_description = summary_description
    if display_name is not None:
        metadata.display_name = display_name
    with _SummaryScope(name, family, [tensor]) as (tag, scope):
        value = summary_ops.tensor_summary_v2(tag, tensor, metadata.SerializeToString(),
                                              name=scope)
    _collect(value, collections, [GraphKeys.SUMMARIES])
    return value


def text(name, tensor, collections=None):
    """A text summary: a string tensor for TensorBoard's text plugin (markdown).

    Args:
      name: the summary's name (see `scalar`).
      tensor: a string tensor of any shape.
      collections: graph collections; default ``[GraphKeys.SUMMARIES]``.

    Returns:
      A scalar string Tensor: the serialized `Summary`.

    Raises:
      ValueError: if `tensor` is not a string tensor.
    """
    graph = _graph_of([tensor])
    tensor = graph_lib.convert_to_tensor(tensor, graph=graph)
    if tensor.dtype != dtypes.string:
        raise ValueError(f"Expected tensor {tensor.name} to have dtype string, got "
                         f"{tensor.dtype!r}")
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))
    return tensor_summary(name, tensor, summary_metadata=metadata, collections=collections)


def merge(inputs, collections=None, name=None):
    """The union of several summaries (op ``MergeSummary``); a repeated tag is an
    `InvalidArgumentError` when it runs.

    Args:
      inputs: a list of string tensors holding serialized `Summary` protos.
      collections: graph collections to add the result to; default none.
      name: the name scope (default ``Merge``); the op is ``<scope>/MergeSummary`` (or
        ``<name>/<name>``).

    Returns:
      A scalar string Tensor: the serialized merged `Summary`.
    """
    inputs = list(inputs)
    graph = _graph_of(inputs)
    with graph.as_default(), graph.name_scope(name or "Merge"):
        value = summary_ops.merge_summary(inputs, name=name or "MergeSummary")
    _collect(value, collections, [])
    return value


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """Merges every summary in collection `key` of the default graph.

    Args:
      key: the collection (default ``GraphKeys.SUMMARIES``).
      scope: an optional regex that the summaries' names must match.
      name: the name scope of the merge op.

    Returns:
      The merged summary tensor, or None when the collection is empty.
    """
    summaries = graph_lib.get_default_graph().get_collection(key, scope=scope)
    if not summaries:
        return None
    return merge(summaries, name=name)


def get_summary_description(node_def):
    """The `SummaryDescription` of a ``TensorSummary`` node (its ``description`` attr, JSON).

    Args:
      node_def: a `NodeDef` of a ``TensorSummary`` op.

    Returns:
      A `SummaryDescription`.

    Raises:
      ValueError: if `node_def` is not a ``TensorSummary``.
    """
    if node_def.op != "TensorSummary":
        raise ValueError(f"Can't get_summary_description on {node_def.op}")
    from google.protobuf import json_format

    description = summary_pb2.SummaryDescription()
    json_format.Parse(node_def.attr["description"].s, description)
    return description

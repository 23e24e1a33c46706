"""The ``tf.data`` iterator ops: ``IteratorV2``, ``OneShotIterator``, ``MakeIterator`` and
``IteratorGetNext``.

Design. An iterator is a resource in the session's container, like a queue: ``IteratorV2``
(or ``OneShotIterator``, which also initializes it on its first run) outputs its handle;
``MakeIterator`` (re)starts it on a dataset; ``IteratorGetNext`` outputs its next element, one
tensor per flat component. A dataset is not a tensor: the ``dataset`` attr of
``MakeIterator``/``OneShotIterator`` holds its description (built by ``sessionlib/data``, read
by the ``dataset_kernels`` family), and the tensors it uses are the op's inputs after the
handle. That attr has no GraphDef form, so a graph with iterators cannot be exported. The user
API is ``sessionlib/data``; this module only registers the ops and never imports kernels.
"""

from sessionlib import dtypes
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape, as_shape

__all__ = []


def _signature(attrs):
    attrs["output_types"] = [dtypes.as_dtype(t) for t in attrs["output_types"]]
    attrs["output_shapes"] = [as_shape(s) for s in attrs.get("output_shapes", [])]
    if len(attrs["output_shapes"]) != len(attrs["output_types"]):
        raise ValueError("An iterator needs one output shape per output type")


def _iterator_infer(inputs, attrs):
    _signature(attrs)
    attrs.setdefault("container", "")
    attrs.setdefault("shared_name", "")
    return [(dtypes.resource, TensorShape([]))]


def _make_iterator_infer(inputs, attrs):
    if not inputs or inputs[0].dtype is not dtypes.resource:
        raise TypeError("MakeIterator takes an iterator handle as its first input")
    _signature(attrs)
    return []


def _get_next_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.resource:
        raise TypeError("IteratorGetNext takes an iterator handle")
    _signature(attrs)
    return list(zip(attrs["output_types"], attrs["output_shapes"]))


registry.register_op("IteratorV2", infer=_iterator_infer, kernel="IteratorV2", num_inputs=0,
                     stateful=True, doc="An iterator resource, initialized by MakeIterator.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("OneShotIterator", infer=_iterator_infer, kernel="OneShotIterator",
                     stateful=True, doc="An iterator initialized on its first run.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("MakeIterator", infer=_make_iterator_infer, kernel="MakeIterator",
                     stateful=True, doc="Starts an iterator on a dataset.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("IteratorGetNext", infer=_get_next_infer, kernel="IteratorGetNext",
                     num_inputs=1, stateful=True, doc="The next element of an iterator.",
                     gradient=registry.NOT_DIFFERENTIABLE)

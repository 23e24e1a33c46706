"""TF 1's iterators over datasets: one-shot, initializable and reinitializable ones.

Design. An `Iterator` wraps an iterator resource handle (``IteratorV2`` or
``OneShotIterator``, see ``ops/dataset_ops.py``) and the element signature. `make_initializer`
lowers a dataset (``dataset_ops.py``) into a ``MakeIterator`` op whose inputs are the
dataset's captured tensors; running it (re)starts the iterator, so one iterator can be fed
from several datasets of one signature (`Iterator.from_structure`). `get_next` builds an
``IteratorGetNext`` op and packs its outputs into the element's nest; running it past the end
raises `OutOfRangeError`.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.data import dataset_ops
from sessionlib.data.dataset_ops import flatten, map_structure, pack

__all__ = ["Iterator", "make_one_shot_iterator", "make_initializable_iterator",
           "get_output_types", "get_output_shapes", "get_output_classes"]


def _signature(structure):
    specs = flatten(structure)
    return [s.dtype for s in specs], [s.shape for s in specs]


class Iterator:
    """An iterator over the elements of datasets (``tf.data.Iterator``).

    Build one with `make_one_shot_iterator`, `make_initializable_iterator` or
    `Iterator.from_structure`, never directly.
    """

    def __init__(self, iterator_resource, initializer, structure):
        self._iterator_resource = iterator_resource
        self._initializer = initializer
        self._structure = structure
        self._get_next_calls = 0

    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None,
                       output_classes=None):
        """A reinitializable iterator for datasets with this element signature.

        Args:
          output_types: a nest of dtypes.
          output_shapes: a matching nest of shapes (default: unknown shapes).
          shared_name: share the iterator between sessions' ops of that name.
          output_classes: ignored (only tensors are supported).

        Returns:
          An `Iterator` with no initializer; use `make_initializer(dataset)`.
        """
        types = map_structure(dtypes.as_dtype, dataset_ops._lists_to_tuples(output_types))
        if output_shapes is None:
            shapes = [TensorShape(None)] * len(flatten(types))
        else:
            shapes = [as_shape(s) for s in dataset_ops._flat_shapes(output_shapes, types)]
        structure = pack(types, [dataset_ops._Spec(t, s)
                                 for t, s in zip(flatten(types), shapes)])
        flat_types, flat_shapes = _signature(structure)
        graph = graph_lib.get_default_graph()
        with graph.control_dependencies(None):
            handle = graph.create_op(
                "IteratorV2", [], {"output_types": flat_types, "output_shapes": flat_shapes,
                                   "shared_name": shared_name or "", "container": ""},
                name="Iterator").outputs[0]
        return Iterator(handle, None, structure)

    @property
    def initializer(self):
        """The op that (re)starts the iterator on its dataset.

        Raises:
          ValueError: for an iterator without one (one-shot, or from `from_structure`).
        """
        if self._initializer is None:
            raise ValueError(
                "The iterator does not have an initializer. This means it was likely created "
                "using `tf.data.Dataset.make_one_shot_iterator()`. For an initializable "
                "iterator, use `tf.data.Dataset.make_initializable_iterator()` instead.")
        return self._initializer

    @property
    def element_spec(self):
        return self._structure

    @property
    def output_types(self):
        return map_structure(lambda s: s.dtype, self._structure)

    @property
    def output_shapes(self):
        return map_structure(lambda s: s.shape, self._structure)

    @property
    def output_classes(self):
        return map_structure(lambda s: graph_lib.Tensor, self._structure)

    def make_initializer(self, dataset, name=None):
        """The op that starts this iterator on `dataset`.

        Raises:
          TypeError: if the dataset's element types or structure differ from the iterator's.
        """
        own_types, own_shapes = _signature(self._structure)
        types, shapes = _signature(dataset._structure)
        if map_structure(lambda s: 0, self._structure) != map_structure(
                lambda s: 0, dataset._structure) or types != own_types:
            raise TypeError(f"Expected output types {self.output_types} but got dataset with "
                            f"output types {dataset.output_types}.")
        for own, shape in zip(own_shapes, shapes):
            if not own.is_compatible_with(shape):
                raise TypeError(f"Expected output shapes compatible with {self.output_shapes} "
                                f"but got dataset with output shapes {dataset.output_shapes}.")
        handle = self._iterator_resource
        graph = handle.graph
        captures = dataset_ops._Captures(graph)
        description = dataset._lower(captures)
        with graph.device(None):
            return graph.create_op(
                "MakeIterator", [handle] + captures.tensors,
                {"dataset": description, "output_types": own_types,
                 "output_shapes": own_shapes},
                name=name or "make_initializer", device=handle.device or None)

    def get_next(self, name=None):
        """The next element: a nest of tensors. Running it past the end raises
        OutOfRangeError; before the initializer ran, FailedPreconditionError."""
        types, shapes = _signature(self._structure)
        handle = self._iterator_resource
        graph = handle.graph
        with graph.device(None):
            op = graph.create_op("IteratorGetNext", [handle],
                                 {"output_types": types, "output_shapes": shapes},
                                 name=name or "IteratorGetNext",
                                 device=handle.device or None)
        return pack(self._structure, list(op.outputs))


def make_one_shot_iterator(dataset):
    """An iterator that starts on `dataset` by itself, at its first run.

    Args:
      dataset: a `Dataset` of the default graph.

    Returns:
      An `Iterator` without an initializer.

    Raises:
      ValueError: if the dataset (or a function of it) uses a placeholder, as in TF: only an
        initializable iterator can be fed.
    """
    graph = graph_lib.get_default_graph()
    types, shapes = _signature(dataset._structure)
    captures = dataset_ops._Captures(graph)
    description = dataset._lower(captures)
    _check_no_placeholder(captures.tensors)
    with graph.control_dependencies(None):
        handle = graph.create_op(
            "OneShotIterator", captures.tensors,
            {"dataset": description, "output_types": types, "output_shapes": shapes,
             "shared_name": "", "container": ""}, name="OneShotIterator").outputs[0]
    return Iterator(handle, None, dataset._structure)


def _check_no_placeholder(tensors):
    """Raises TF's ValueError when `tensors` (a one-shot iterator's captures) depend on a
    placeholder: nothing can feed it, since a one-shot iterator has no initializer (and
    every step would have to feed it, as the iterator op's input).
    """
    seen, pending = set(), [t.op for t in tensors]
    while pending:
        op = pending.pop()
        if op in seen:
            continue
        seen.add(op)
        if op.type in ("Placeholder", "PlaceholderV2"):
            raise ValueError(f"Cannot capture a placeholder (name:{op.name}, "
                             f"type:{op.type}) by value.")
        pending.extend(t.op for t in op.inputs)
        pending.extend(op.control_inputs)


def make_initializable_iterator(dataset, shared_name=None):
    """An iterator over `dataset` that starts (and restarts) when its `initializer` runs.

    Args:
      dataset: a `Dataset` of the default graph.
      shared_name: share the iterator between sessions' ops of that name.

    Returns:
      An `Iterator`; run ``iterator.initializer`` (with feeds for any placeholders the
      dataset uses) before `get_next`.
    """
    structure = dataset._structure
    types = map_structure(lambda s: s.dtype, structure)
    shapes = map_structure(lambda s: s.shape, structure)
    iterator = Iterator.from_structure(types, shapes, shared_name)
    iterator._initializer = iterator.make_initializer(dataset)
    return iterator


def get_output_types(dataset_or_iterator):
    """The nest of dtypes of a dataset's or iterator's elements."""
    return dataset_or_iterator.output_types


def get_output_shapes(dataset_or_iterator):
    """The nest of static shapes of a dataset's or iterator's elements."""
    return dataset_or_iterator.output_shapes


def get_output_classes(dataset_or_iterator):
    """The nest of classes (always `Tensor`) of a dataset's or iterator's elements."""
    return dataset_or_iterator.output_classes

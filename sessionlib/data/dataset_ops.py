"""``tf.data.Dataset`` in graph mode: a Python description of an input pipeline.

Design. A `Dataset` here is not a tensor (TF's variant) but a small Python object: its kind,
its arguments, its input datasets and its element signature (a nest of `_Spec`: dtype and
static shape per component). Nothing runs when it is built. Making an iterator
(``iterator_ops.py``) *lowers* it into a description that an iterator op carries as an attr
and the ``dataset_kernels`` family of the runtime executes:

* a description is ``(kind, args, inputs)``: `kind` a string, `args` a dict, `inputs` a tuple
  of descriptions;
* every tensor the dataset uses (the arrays of `from_tensor_slices`, a batch size, file names)
  is a *capture*: lowering collects them in order and puts their index in `args`; they become
  the iterator op's inputs, so a placeholder can feed a dataset at initialization time, as in
  TF (``make_initializable_iterator`` and ``feed_dict`` on its ``initializer``);
* the functions of `map`, `filter`, `interleave` and `flat_map` are traced once, when the
  transformation is built, on placeholders in a private `FuncGraph`: ``args["function"]`` holds
  that graph and its input and output tensors, and the kernel runs it through the session's
  executor, one call per element. A function returning a dataset (`interleave`, `flat_map`)
  has that dataset's captures as its outputs and its description in ``args["dataset"]``.

A function may use tensors of the outer graph, as in TF: the private graph (a `FuncGraph`)
*captures* each one, giving the function a placeholder for it, and the outer tensor becomes a
capture of the dataset like its other tensors (``args["function"]["captured"]``), so its value
is computed when the iterator is initialized: a constant, a placeholder fed to the
initializer. A variable is read at each call instead, as TF reads a resource variable. An op
whose first input is the outer tensor (``scale * x``) is built by the outer graph, which hands
it to the function's graph (``Graph.create_op``). Pipelines run in the client process; a graph
with iterators has no GraphDef form (the description is a Python object).

Nesting follows ``tf.nest`` for tuples, namedtuples and dicts (dicts flatten by sorted key); a
list given as data is one tensor, as in TF; a list returned by a function is a tuple.
"""

import os

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import function as function_lib
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import tensor_util
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import array_ops, random_ops

__all__ = ["Dataset", "TextLineDataset", "TFRecordDataset", "FixedLengthRecordDataset",
           "AUTOTUNE"]

AUTOTUNE = -1


# ---- nests ----------------------------------------------------------------------------------

def _is_namedtuple(value):
    return isinstance(value, tuple) and hasattr(value, "_fields")


def flatten(structure):
    """The leaves of a nest of tuples, namedtuples and dicts (dicts by sorted key)."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, tuple):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack(structure, flat):
    """The leaves `flat` (a list) in the nesting of `structure`."""
    leaves = iter(flat)

    def build(item):
        if isinstance(item, dict):
            return {key: build(item[key]) for key in sorted(item)}
        if _is_namedtuple(item):
            return type(item)(*[build(child) for child in item])
        if isinstance(item, tuple):
            return tuple(build(child) for child in item)
        return next(leaves)

    return build(structure)


def flatten_up_to(structure, value):
    """The leaves of `value` at the leaf positions of `structure` (a yielded list stays one
    leaf where `structure` has one)."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure)
                for leaf in flatten_up_to(structure[key], value[key])]
    if isinstance(structure, tuple):
        if not isinstance(value, (list, tuple)) or len(value) != len(structure):
            raise TypeError(f"The value {value!r} does not match the structure {structure!r}")
        return [leaf for sub, item in zip(structure, value)
                for leaf in flatten_up_to(sub, item)]
    return [value]


def map_structure(function, structure):
    return pack(structure, [function(leaf) for leaf in flatten(structure)])


def _lists_to_tuples(structure):
    if isinstance(structure, dict):
        return {key: _lists_to_tuples(value) for key, value in structure.items()}
    if _is_namedtuple(structure):
        return type(structure)(*[_lists_to_tuples(v) for v in structure])
    if isinstance(structure, (list, tuple)):
        return tuple(_lists_to_tuples(v) for v in structure)
    return structure


class _Spec:
    """One component of a dataset's element: its dtype and static shape."""

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype, shape):
        self.dtype = dtypes.as_dtype(dtype)
        self.shape = as_shape(shape)

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r})"


def _spec_of(tensor):
    return _Spec(tensor.dtype, tensor.shape)


# ---- lowering -------------------------------------------------------------------------------

class _Captures:
    """The tensors a description uses, in order, each once."""

    def __init__(self, graph):
        self.graph = graph
        self.tensors = []
        self._index = {}

    def add(self, tensor):
        if tensor.graph is not self.graph:
            raise ValueError(f"The dataset uses tensor {tensor.name} of another graph than the "
                             "iterator's; build the dataset and its iterator in one graph.")
        index = self._index.get(tensor)
        if index is None:
            index = self._index[tensor] = len(self.tensors)
            self.tensors.append(tensor)
        return index


def _as_tensor(value, dtype=None, name=None):
    if isinstance(value, graph_lib.Tensor):
        return value
    return graph_lib.convert_to_tensor(value, dtype=dtype, name=name)


def _convert_components(tensors):
    """A nest of values (as data: lists are tensors) as a nest of tensors."""
    def convert(value):
        if isinstance(value, (dict, tuple)) and not isinstance(value, graph_lib.Tensor):
            return None
        return _as_tensor(value)

    if isinstance(tensors, dict):
        return {key: _convert_components(value) for key, value in tensors.items()}
    if _is_namedtuple(tensors):
        return type(tensors)(*[_convert_components(v) for v in tensors])
    if isinstance(tensors, tuple):
        return tuple(_convert_components(v) for v in tensors)
    return convert(tensors)


class _TracedFunction:
    """A user function traced on placeholders into a private graph (see the module doc).

    Attributes:
      spec: the description's function dict: ``{"graph", "inputs", "outputs"}``.
      output_structure: the nest of `_Spec` of its result, or None when it returns a dataset.
      dataset: the returned `Dataset` (`interleave`, `flat_map`), else None.
      dataset_description: the returned dataset lowered with the graph's tensors as captures.
    """

    def __init__(self, function, input_structure, what):
        graph = function_lib.FuncGraph(function_lib.unique_function_name("", "dataset_fn"),
                                       graph_lib.get_default_graph())
        with graph.as_default():
            placeholders = [array_ops.placeholder(spec.dtype, spec.shape, name=f"arg{index}")
                            for index, spec in enumerate(flatten(input_structure))]
            args = pack(input_structure, placeholders)
            # TF's rule: a tuple element is passed as separate arguments.
            if isinstance(args, tuple) and not _is_namedtuple(args):
                result = function(*args)
            else:
                result = function(args)
            self.dataset = None
            self.dataset_description = None
            if isinstance(result, Dataset):
                captures = _Captures(graph)
                self.dataset = result
                self.dataset_description = result._lower(captures)
                outputs = captures.tensors
                self.output_structure = None
            else:
                if result is None:
                    raise ValueError(f"The function passed to {what} must return a value")
                result = _lists_to_tuples(result)
                result = map_structure(lambda v: _as_tensor(v), result)
                outputs = flatten(result)
                self.output_structure = map_structure(_spec_of, result)
        self.spec = {"graph": graph, "inputs": placeholders, "outputs": outputs,
                     "capture_inputs": graph.capture_inputs}
        self.captured = graph.captured

    def lower(self, captures):
        """The description's function dict: `spec`, with ``"captured"`` the indices in
        `captures` of the outer tensors whose values feed ``"capture_inputs"``."""
        return dict(self.spec, captured=[captures.add(t) for t in self.captured])


# ---- Dataset --------------------------------------------------------------------------------

class Dataset:
    """A pipeline of elements (``tf.data.Dataset``), built lazily and run by an iterator.

    Build one with the static constructors (`from_tensor_slices`, `range`, ...) and chain
    transformations; iterate it with ``tf.data.make_one_shot_iterator(ds)`` or
    ``make_initializable_iterator``.
    """

    def __init__(self, kind, args, inputs, structure):
        self._kind = kind
        self._args = args        # values: tensors, traced functions or plain values
        self._inputs = tuple(inputs)
        self._structure = structure

    # ---- the element signature -------------------------------------------------------------

    @property
    def element_spec(self):
        return self._structure

    @property
    def output_types(self):
        return map_structure(lambda spec: spec.dtype, self._structure)

    @property
    def output_shapes(self):
        return map_structure(lambda spec: spec.shape, self._structure)

    @property
    def output_classes(self):
        return map_structure(lambda spec: graph_lib.Tensor, self._structure)

    def __repr__(self):
        return f"<{type(self).__name__} kind={self._kind} element_spec={self._structure}>"

    def __iter__(self):
        raise RuntimeError("In graph mode, iterate a dataset with an iterator: "
                           "tf.data.make_one_shot_iterator(dataset).get_next()")

    # ---- lowering ---------------------------------------------------------------------------

    def _lower(self, captures):
        """This dataset's description, adding its tensors to `captures`."""
        args = {}
        for key, value in self._args.items():
            if isinstance(value, graph_lib.Tensor):
                args[key] = captures.add(value)
            elif isinstance(value, list) and value and all(
                    isinstance(v, graph_lib.Tensor) for v in value):
                args[key] = [captures.add(v) for v in value]
            elif isinstance(value, _TracedFunction):
                args[key] = value.lower(captures)
                if value.dataset_description is not None:
                    args["dataset"] = value.dataset_description
            else:
                args[key] = value
        return (self._kind, args, tuple(d._lower(captures) for d in self._inputs))

    # ---- sources ----------------------------------------------------------------------------

    @staticmethod
    def from_tensor_slices(tensors):
        """A dataset of the slices of `tensors` along dimension 0 (a nest of tensors)."""
        components = _convert_components(tensors)
        flat = flatten(components)
        first = None
        for tensor in flat:
            if tensor.shape.rank == 0:
                raise ValueError(f"Unbatching a tensor is only supported for rank >= 1, got "
                                 f"{tensor}")
            if tensor.shape.rank is not None:
                dim = tensor.shape.as_list()[0]
                if first is not None and dim is not None and dim != first:
                    raise ValueError(f"Dimension 0 in both shapes must be equal, but are "
                                     f"{first} and {dim}.")
                first = first if dim is None else dim
        structure = map_structure(
            lambda t: _Spec(t.dtype, TensorShape(t.shape.as_list()[1:])
                            if t.shape.rank is not None else TensorShape(None)), components)
        return Dataset("tensor_slices", {"components": flat}, (), structure)

    @staticmethod
    def from_tensors(tensors):
        """A dataset of one element: `tensors` (a nest of tensors)."""
        components = _convert_components(tensors)
        return Dataset("tensors", {"components": flatten(components)}, (),
                       map_structure(_spec_of, components))

    @staticmethod
    def range(*args, output_type=dtypes.int64):
        """A dataset of ``range(*args)``: (stop), (start, stop) or (start, stop, step)."""
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid arguments to range: {args}")
        start, stop, step = ((0, args[0], 1) if len(args) == 1 else
                             (args[0], args[1], 1) if len(args) == 2 else args)
        output_type = dtypes.as_dtype(output_type)
        tensors = {name: _as_tensor(value, dtype=dtypes.int64, name=name)
                   for name, value in (("start", start), ("stop", stop), ("step", step))}
        tensors["dtype"] = output_type
        return Dataset("range", tensors, (), _Spec(output_type, []))

    @staticmethod
    def from_generator(generator, output_types, output_shapes=None, args=None):
        """A dataset of the values that ``generator(*args)`` yields, in each pass.

        Args:
          generator: a callable returning an iterable; called once per pass (epoch).
          output_types: a nest of dtypes, the structure of each yielded value.
          output_shapes: a nest of shapes (default: unknown).
          args: Python or numpy values passed to `generator` (TF evaluates tensors here;
            sessionlib takes only values).
        """
        types = map_structure(dtypes.as_dtype, _lists_to_tuples(output_types))
        if output_shapes is None:
            shapes = map_structure(lambda _: TensorShape(None), types)
        else:
            shapes = pack(types, [as_shape(s) for s in _flat_shapes(output_shapes, types)])
        structure = pack(types, [_Spec(t, s) for t, s in zip(flatten(types), flatten(shapes))])
        call_args = tuple(args or ())
        kernel_shapes = [None if s.rank is None else s.as_list() for s in flatten(shapes)]
        return Dataset("generator",
                       {"generator": (lambda: generator(*call_args)),
                        "flatten": lambda value: flatten_up_to(types, value),
                        "types": flatten(types), "shapes": kernel_shapes}, (), structure)

    @staticmethod
    def zip(datasets):
        """A dataset of the elements of `datasets` (a nest of datasets), in lockstep."""
        datasets = _lists_to_tuples(datasets)
        inputs = flatten(datasets)
        for dataset in inputs:
            if not isinstance(dataset, Dataset):
                raise TypeError(f"zip takes a nest of datasets, got {dataset!r}")
        structure = map_structure(lambda d: d._structure, datasets)
        return Dataset("zip", {}, inputs, structure)

    # ---- transformations --------------------------------------------------------------------

    def concatenate(self, dataset):
        """This dataset's elements, then `dataset`'s (same types and structure)."""
        if [s.dtype for s in flatten(self._structure)] != [
                s.dtype for s in flatten(dataset._structure)]:
            raise TypeError(f"Two datasets to concatenate have different types "
                            f"{self.output_types} and {dataset.output_types}")
        structure = pack(self._structure, [
            _Spec(a.dtype, _most_specific(a.shape, b.shape))
            for a, b in zip(flatten(self._structure), flatten(dataset._structure))])
        return Dataset("concatenate", {}, (self, dataset), structure)

    def map(self, map_func, num_parallel_calls=None, deterministic=None):
        """Applies `map_func` to each element (traced once; see the module doc).

        Args:
          map_func: a function of the element's components (a tuple element is unpacked).
          num_parallel_calls: how many elements are mapped at once on worker threads (order
            is kept); None or 1: on the pulling thread; AUTOTUNE: the CPU count.
        """
        function = _TracedFunction(map_func, self._structure, "map")
        if function.output_structure is None:
            raise TypeError("The function passed to map returned a Dataset; use flat_map")
        parallel = _parallelism(num_parallel_calls)
        return Dataset("map", {"function": function, "num_parallel_calls": parallel},
                       (self,), function.output_structure)

    def filter(self, predicate):
        """The elements for which `predicate` (a function returning a scalar bool) is true."""
        function = _TracedFunction(predicate, self._structure, "filter")
        specs = flatten(function.output_structure or ())
        if len(specs) != 1 or specs[0].dtype is not dtypes.bool or (
                specs[0].shape.rank not in (None, 0)):
            raise ValueError("Invalid `predicate`. `predicate` must return a `tf.bool` scalar "
                             f"tensor, but its return type was {specs}.")
        return Dataset("filter", {"function": function}, (self,), self._structure)

    def flat_map(self, map_func):
        """The elements of the datasets that `map_func` returns for each element, in turn."""
        return self._interleave(map_func, 1, 1, "flat_map")

    def interleave(self, map_func, cycle_length=None, block_length=None,
                   num_parallel_calls=None, deterministic=None):
        """Interleaves the datasets `map_func` returns: `cycle_length` open at a time,
        `block_length` consecutive elements from each (TF's order). `num_parallel_calls` is
        accepted and ignored (the inputs are read on the pulling thread)."""
        if cycle_length is None or cycle_length == AUTOTUNE:
            cycle_length = os.cpu_count() or 1
        return self._interleave(map_func, cycle_length,
                                1 if block_length is None else block_length, "interleave")

    def _interleave(self, map_func, cycle_length, block_length, what):
        function = _TracedFunction(map_func, self._structure, what)
        if function.dataset is None:
            raise TypeError(f"The function passed to {what} must return a Dataset")
        return Dataset("interleave",
                       {"function": function,
                        "cycle_length": _as_tensor(cycle_length, dtypes.int64),
                        "block_length": _as_tensor(block_length, dtypes.int64)},
                       (self,), function.dataset._structure)

    def batch(self, batch_size, drop_remainder=False):
        """Stacks `batch_size` consecutive elements; the last batch may be smaller unless
        `drop_remainder`."""
        batch_size = _as_tensor(batch_size, dtypes.int64, "batch_size")
        drop = _as_tensor(drop_remainder, dtypes.bool, "drop_remainder")
        known = _batch_dim(batch_size, drop)
        structure = map_structure(
            lambda s: _Spec(s.dtype, TensorShape([known]).concatenate(s.shape)),
            self._structure)
        return Dataset("batch", {"batch_size": batch_size, "drop_remainder": drop}, (self,),
                       structure)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None,
                     drop_remainder=False):
        """Batches elements of different shapes, padding each component to `padded_shapes`
        (None or -1 dimensions: the longest in the batch) with `padding_values` (default 0,
        or b'' for strings)."""
        specs = flatten(self._structure)
        if padded_shapes is None:
            shapes = [s.shape for s in specs]
        else:
            shapes = [as_shape(s) for s in _flat_shapes(padded_shapes, self._structure)]
        if padding_values is None:
            values = [b"" if s.dtype is dtypes.string else 0 for s in specs]
        else:
            values = flatten(_lists_to_tuples(padding_values))
            if len(values) == 1 and len(specs) > 1:
                values = values * len(specs)
        for spec, shape in zip(specs, shapes):
            if shape.rank is None:
                raise ValueError("padded_batch needs a known rank for every component")
            if spec.shape.rank is not None and spec.shape.rank != shape.rank:
                raise ValueError(f"The padded shape {shape} is not compatible with the "
                                 f"shape {spec.shape} of the corresponding input component.")
        value_tensors = [_as_tensor(v, s.dtype) for v, s in zip(values, specs)]
        batch_size = _as_tensor(batch_size, dtypes.int64, "batch_size")
        drop = _as_tensor(drop_remainder, dtypes.bool, "drop_remainder")
        known = _batch_dim(batch_size, drop)
        structure = pack(self._structure, [
            _Spec(spec.dtype, TensorShape([known]).concatenate(shape))
            for spec, shape in zip(specs, shapes)])
        return Dataset("padded_batch",
                       {"batch_size": batch_size, "drop_remainder": drop,
                        "padded_shapes": [[d for d in s.as_list()] for s in shapes],
                        "padding_values": value_tensors},
                       (self,), structure)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None):
        """Shuffles through a buffer of `buffer_size` elements (TF's algorithm).

        Args:
          buffer_size: the buffer's size; the whole dataset's for a full shuffle.
          seed: the op-level seed (with the graph seed, as for random ops); None: a
            nondeterministic order unless the graph has a seed.
          reshuffle_each_iteration: a new order in each pass (default True); False repeats
            the first pass's order.
        """
        seed1, seed2 = random_ops.get_seed(seed)
        rng_seed = None if seed1 is None and seed2 is None else [
            (seed1 or 0) & 0xFFFFFFFFFFFFFFFF, (seed2 or 0) & 0xFFFFFFFFFFFFFFFF]
        return Dataset("shuffle",
                       {"buffer_size": _as_tensor(buffer_size, dtypes.int64, "buffer_size"),
                        "seed": rng_seed,
                        "reshuffle_each_iteration": reshuffle_each_iteration is not False},
                       (self,), self._structure)

    def repeat(self, count=None):
        """Repeats the dataset `count` times (None or -1: forever)."""
        return Dataset("repeat", {"count": _as_tensor(-1 if count is None else count,
                                                      dtypes.int64, "count")},
                       (self,), self._structure)

    def take(self, count):
        """At most the first `count` elements (-1: all)."""
        return Dataset("take", {"count": _as_tensor(count, dtypes.int64, "count")}, (self,),
                       self._structure)

    def skip(self, count):
        """All but the first `count` elements (-1: none)."""
        return Dataset("skip", {"count": _as_tensor(count, dtypes.int64, "count")}, (self,),
                       self._structure)

    def prefetch(self, buffer_size):
        """Produces up to `buffer_size` elements ahead on a background thread (AUTOTUNE: 2)."""
        return Dataset("prefetch",
                       {"buffer_size": _as_tensor(buffer_size, dtypes.int64, "buffer_size")},
                       (self,), self._structure)

    def cache(self, filename=""):
        """Caches the elements of the first complete pass; later passes replay them.

        Args:
          filename: a string (or string tensor). Empty: the cache is in memory, for this
            iterator. Otherwise the prefix of cache files (TF's format: ``<filename>.index``
            and ``<filename>.data-00000-of-00001``), written when a pass completes and read
            by every later pass, of this iterator or any other, instead of the input.
        """
        return Dataset("cache", {"filename": _as_tensor(filename, dtypes.string, "filename"),
                                 "num_components": len(flatten(self._structure))},
                       (self,), self._structure)

    def apply(self, transformation_func):
        """``transformation_func(self)``, which must return a Dataset."""
        dataset = transformation_func(self)
        if not isinstance(dataset, Dataset):
            raise TypeError("`transformation_func` must return a Dataset")
        return dataset

    # ---- TF 1 iterators ---------------------------------------------------------------------

    def make_one_shot_iterator(self):
        """``tf.data.make_one_shot_iterator(self)``."""
        from sessionlib.data import iterator_ops

        return iterator_ops.make_one_shot_iterator(self)

    def make_initializable_iterator(self, shared_name=None):
        """``tf.data.make_initializable_iterator(self)``."""
        from sessionlib.data import iterator_ops

        return iterator_ops.make_initializable_iterator(self, shared_name)


class TextLineDataset(Dataset):
    """The lines of text files (without the line ending), file after file.

    Args:
      filenames: a string, or a list/1-D tensor of strings.
      compression_type: only None or '' (no compression) is supported.
      buffer_size: ignored.
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None):
        if compression_type:
            raise NotImplementedError("TextLineDataset: compressed files are not supported")
        filenames = _as_tensor(filenames, dtypes.string, "filenames")
        if filenames.shape.rank not in (None, 0, 1):
            raise ValueError("`filenames` must be a scalar or a vector of strings")
        super().__init__("text_line", {"filenames": filenames}, (),
                         _Spec(dtypes.string, []))


def _filenames_tensor(filenames):
    filenames = _as_tensor(filenames, dtypes.string, "filenames")
    if filenames.shape.rank not in (None, 0, 1):
        raise ValueError("`filenames` must be a scalar or a vector of strings")
    return filenames


def _compression_string(compression_type):
    """TF's spelling of a file compression: "", "ZLIB" or "GZIP"."""
    if compression_type is None:
        return ""
    if isinstance(compression_type, graph_lib.Tensor):
        value = tensor_util.constant_value(compression_type)
        if value is None:
            raise NotImplementedError("compression_type must be known when the dataset is "
                                      "built (a Python string or a constant)")
        compression_type = value.item() if hasattr(value, "item") else value
    if isinstance(compression_type, bytes):
        compression_type = compression_type.decode()
    if compression_type not in ("", "ZLIB", "GZIP"):
        raise ValueError(f"Unsupported compression_type {compression_type!r}: use '', 'ZLIB' "
                         "or 'GZIP'")
    return compression_type


def _parallel_reads(num_parallel_reads):
    if num_parallel_reads is None:
        return 1
    if isinstance(num_parallel_reads, graph_lib.Tensor):
        value = tensor_util.constant_value(num_parallel_reads)
        if value is None:
            raise NotImplementedError("num_parallel_reads must be known when the dataset is "
                                      "built")
        num_parallel_reads = int(value)
    return _parallelism(num_parallel_reads)


class TFRecordDataset(Dataset):
    """The records of TFRecord files (``tf.data.TFRecordDataset``), file after file.

    Args:
      filenames: a string, or a list/1-D tensor of strings.
      compression_type: None or "" (none), "ZLIB" or "GZIP".
      buffer_size: ignored (reads are buffered by Python's files).
      num_parallel_reads: how many files to read at once, taking one record from each in
        turn (TF's deterministic order); None reads file after file.

    Raises:
      ValueError: for a bad filenames shape or an unknown compression type.
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None):
        super().__init__("tf_record", {"filenames": _filenames_tensor(filenames),
                                       "compression_type": _compression_string(compression_type),
                                       "num_parallel_reads": _parallel_reads(num_parallel_reads)},
                         (), _Spec(dtypes.string, []))


class FixedLengthRecordDataset(Dataset):
    """Fixed-length records of binary files (``tf.data.FixedLengthRecordDataset``).

    Args:
      filenames: a string, or a list/1-D tensor of strings.
      record_bytes: the length of a record.
      header_bytes: bytes to skip at the start of each file (default 0).
      footer_bytes: bytes to ignore at the end of each file (default 0).
      buffer_size: ignored.
      compression_type: None or "" (none), "ZLIB" or "GZIP".
      num_parallel_reads: as for `TFRecordDataset`.

    Raises:
      ValueError: for a bad filenames shape or an unknown compression type.
    """

    def __init__(self, filenames, record_bytes, header_bytes=None, footer_bytes=None,
                 buffer_size=None, compression_type=None, num_parallel_reads=None):
        args = {"filenames": _filenames_tensor(filenames),
                "compression_type": _compression_string(compression_type),
                "num_parallel_reads": _parallel_reads(num_parallel_reads)}
        for key, value in (("record_bytes", record_bytes), ("header_bytes", header_bytes),
                           ("footer_bytes", footer_bytes)):
            args[key] = _as_tensor(0 if value is None else value, dtypes.int64, key)
        super().__init__("fixed_length_record", args, (), _Spec(dtypes.string, []))


# ---- helpers --------------------------------------------------------------------------------

def _flat_shapes(shapes, structure):
    """The flat list of shapes of a nest of shapes that follows `structure`."""
    def is_shape(value):
        return value is None or isinstance(value, TensorShape) or (
            isinstance(value, (list, tuple)) and not _is_namedtuple(value)
            and all(d is None or isinstance(d, (int, np.integer)) for d in value))

    def walk(shapes, structure):
        if isinstance(structure, dict):
            return [s for key in sorted(structure) for s in walk(shapes[key], structure[key])]
        if isinstance(structure, tuple):
            return [s for sub, st in zip(shapes, structure) for s in walk(sub, st)]
        if not is_shape(shapes):
            raise ValueError(f"{shapes!r} is not a shape")
        if isinstance(shapes, (list, tuple)):
            shapes = [None if d is not None and d < 0 else d for d in shapes]
        return [shapes]

    return walk(shapes, structure)


def _most_specific(a, b):
    if a.rank is None or b.rank is None or a.rank != b.rank:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


def _batch_dim(batch_size, drop):
    size = tensor_util.constant_value(batch_size)
    dropping = tensor_util.constant_value(drop)
    if size is not None and dropping is not None and bool(dropping):
        return int(size)
    return None


def _parallelism(num_parallel_calls):
    if num_parallel_calls is None:
        return 1
    if num_parallel_calls == AUTOTUNE:
        return os.cpu_count() or 1
    if num_parallel_calls < 1:
        raise ValueError("num_parallel_calls must be positive or AUTOTUNE")
    return int(num_parallel_calls)

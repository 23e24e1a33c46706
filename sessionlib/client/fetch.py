"""Fetch and feed mapping: from the user's nested structures to flat, unique graph elements.

Like TF's ``_FetchMapper``, a fetch structure (a tensor, a name, an op, or lists, tuples,
namedtuples and dicts of them, nested) is flattened into a list of unique elements, and after
the run the same structure is rebuilt around the values. A `FetchPlan` is immutable and cached
by the session for hashable fetch structures, so a repeated ``run(c)`` maps nothing again.

Types such as `SparseTensor` register how they are fetched and fed in the framework's
`run_conversions` registry (TF's `register_session_run_conversion_functions`): a fetch function
that returns the component tensors and a function that rebuilds the value from their results,
and a feed function that splits a fed value across the component tensors. This module only
looks them up.
"""

import collections
import collections.abc

from sessionlib import dtypes, errors
from sessionlib.framework.graph import Operation, Tensor
from sessionlib.framework.run_conversions import conversion_for

__all__ = ["FetchPlan", "expand_feed", "MAX_FETCH_DEPTH"]

# How deep a fetch structure may nest. Mapping and rebuilding recurse once per level, so a
# structure that nests deeper (or contains itself) would end in a RecursionError; it is a
# ValueError instead. Real fetch structures nest a few levels.
MAX_FETCH_DEPTH = 128


def expand_feed(key, value, depth=0):
    """Splits one feed_dict entry into (key, value) pairs of plain tensors or names.

    Handles registered types (a SparseTensor key) and tuple keys whose value has the same
    structure (a tuple of Tensors and SparseTensors is a valid key in TF).

    Raises:
      TypeError: for a tuple key nested more than `MAX_FETCH_DEPTH` deep.
      ValueError: for a tuple key whose value has another structure.
    """
    conversion = conversion_for(key)
    if conversion is not None and conversion[1] is not None:
        return list(conversion[1](key, value))
    if isinstance(key, tuple) and not hasattr(key, "_fields"):
        if depth >= MAX_FETCH_DEPTH:
            raise TypeError(f"Cannot interpret feed_dict key as Tensor: a tuple nested more "
                            f"than {MAX_FETCH_DEPTH} levels deep")
        if not isinstance(value, (tuple, list)) or len(value) != len(key):
            raise ValueError(f"A tuple feed key needs a value of the same structure, got "
                             f"{type(value).__name__}")
        pairs = []
        for sub_key, sub_value in zip(key, value):
            pairs.extend(expand_feed(sub_key, sub_value, depth + 1))
        return pairs
    return [(key, value)]


def feed_tensors_for_partial_run(key, depth=0):
    """The plain tensors (or names) a partial_run_setup feed entry stands for.

    Raises:
      TypeError: for a tuple key nested more than `MAX_FETCH_DEPTH` deep.
    """
    conversion = conversion_for(key)
    if conversion is not None and conversion[2] is not None:
        return list(conversion[2](key))
    if isinstance(key, tuple) and not hasattr(key, "_fields"):
        if depth >= MAX_FETCH_DEPTH:
            raise TypeError(f"Cannot interpret feed key as Tensor: a tuple nested more than "
                            f"{MAX_FETCH_DEPTH} levels deep")
        result = []
        for sub_key in key:
            result.extend(feed_tensors_for_partial_run(sub_key, depth + 1))
        return result
    return [key]


def _resolve_element(graph, fetch):
    """`fetch` as a Tensor or Operation of `graph`, with TF's error types and messages."""
    if fetch is None:
        raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)!r}")
    if isinstance(fetch, (Tensor, Operation)):
        if fetch.graph is not graph:
            raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. "
                             f"({fetch!r} is not an element of this graph.)")
        return fetch
    try:
        return graph.as_graph_element(fetch, allow_tensor=True, allow_operation=True)
    except TypeError as err:
        raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)!r}, must be "
                        f"a string or Tensor. ({err})") from None
    except ValueError as err:
        raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. "
                         f"({err})") from None
    except KeyError as err:
        raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. "
                         f"({err.args[0]})") from None


class FetchPlan:
    """A flattened fetch structure.

    Attributes:
      tensors: the unique fetched tensors, in first-seen order.
      targets: the unique fetched operations (they produce None).
      wrapped: ``(index, fetch_wrapper, tensor)`` for each tensor whose op registered a
        `fetch_wrapper` (see the registry); `build` applies them. Usually empty.
    """

    __slots__ = ("tensors", "targets", "wrapped", "_build")

    def __init__(self, graph, fetches):
        tensors, targets = [], []
        tensor_index, target_set = {}, set()

        def element(fetch):
            """Registers one leaf; returns a function from the values list to its result."""
            conversion = conversion_for(fetch)
            if conversion is not None:
                components, contract = conversion[0](fetch)
                builders = [element(component) for component in components]
                return lambda values: contract([b(values) for b in builders])
            resolved = _resolve_element(graph, fetch)
            if isinstance(resolved, Operation):
                if resolved not in target_set:
                    target_set.add(resolved)
                    targets.append(resolved)
                return lambda values: None
            if resolved.dtype is dtypes.variant:
                # A variant (a TensorList) has no numpy form; TF fails the same way.
                raise errors.InternalError(
                    None, None, f"Tensorflow type 21 not convertible to numpy dtype (fetching "
                    f"variant tensor {resolved.name}).")
            index = tensor_index.get(resolved)
            if index is None:
                index = tensor_index[resolved] = len(tensors)
                tensors.append(resolved)
            return lambda values: values[index]

        def structure(fetch, depth=0):
            if depth > MAX_FETCH_DEPTH:
                raise ValueError(f"The fetch structure nests more than {MAX_FETCH_DEPTH} "
                                 f"levels deep (or contains itself)")
            if isinstance(fetch, (list, tuple)) and conversion_for(fetch) is None:
                builders = [structure(item, depth + 1) for item in fetch]
                if isinstance(fetch, list):
                    return lambda values: [b(values) for b in builders]
                if hasattr(fetch, "_fields"):  # a namedtuple
                    cls = type(fetch)
                    return lambda values: cls(*[b(values) for b in builders])
                cls = type(fetch)
                if cls is tuple:
                    return lambda values: tuple(b(values) for b in builders)
                return lambda values: cls(b(values) for b in builders)
            if isinstance(fetch, collections.abc.Mapping):
                keys = list(fetch.keys())
                builders = [structure(fetch[key], depth + 1) for key in keys]
                cls = type(fetch)

                def build_mapping(values):
                    items = [(key, b(values)) for key, b in zip(keys, builders)]
                    if cls is dict:
                        return dict(items)
                    if isinstance(fetch, collections.defaultdict):
                        result = cls(fetch.default_factory)
                        result.update(items)
                        return result
                    return cls(items)

                return build_mapping
            return element(fetch)

        self._build = structure(fetches)
        self.tensors = tuple(tensors)
        self.targets = tuple(targets)
        self.wrapped = tuple((index, tensor.op._opdef.fetch_wrapper, tensor)
                             for index, tensor in enumerate(tensors)
                             if tensor.op._opdef.fetch_wrapper is not None)

    def build(self, values, session=None):
        """The user's structure with `values` (one per entry of `tensors`) in place.

        Args:
          values: the fetched arrays, one per entry of `tensors`.
          session: the session that ran them, handed to fetch wrappers.
        """
        if self.wrapped:
            values = list(values)
            for index, wrapper, tensor in self.wrapped:
                values[index] = wrapper(values[index], tensor, session)
        return self._build(values)

"""Higher-order functions over the first axis: ``tf.map_fn``, ``tf.scan``, ``tf.foldl``,
``tf.foldr``.

Design (TF 1's, on TF 2's loop). Each is one ``tf.while_loop`` (``while_v2.py``, a single
``While`` op whose body is traced once) over the rows of `elems`: the rows are unstacked into
TensorArrays before the loop and read by index inside it, and the per-step results of
`map_fn` and `scan` are written into TensorArrays carried as loop variables and stacked after
it. The loop is therefore one op whatever the number of rows, the rows need not be known
while the graph is built, and the gradients are those of ``While`` and the TensorList ops.

Structures: `elems` may be a nested structure of tensors sharing their first dimension; `fn`
gets the rows in that structure. `map_fn`'s results have the structure of `dtype` when given
(each leaf a dtype), else of `elems`; `scan`'s that of `initializer` when given, else of
`elems`. A result of another structure is the ValueError or TypeError of
``assert_same_structure``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _nest, array_ops, math_ops
from sessionlib.ops.tensor_array_ops import TensorArray
from sessionlib.ops.while_v2 import while_loop

__all__ = ["map_fn", "scan", "foldl", "foldr"]


def _check_callable(fn):
    if not callable(fn):
        raise TypeError("fn must be callable.")


def _elems(elems):
    """`elems` flattened to tensors of rank >= 1 and the row count (static where known)."""
    flat = [graph_lib.convert_to_tensor(elem, name="elem") for elem in _nest.flatten(elems)]
    if not flat:
        raise ValueError(f"elems must be a Tensor or (possibly nested) sequence of Tensors. "
                         f"Got {elems}, which does not contain any Tensors.")
    for elem in flat:
        if elem.shape.rank is not None and elem.shape.rank < 1:
            raise ValueError("Elements in elems must be 1+ dimensional Tensors, not scalars")
    static = flat[0].shape[0] if flat[0].shape.rank else None
    n = static if static is not None else array_ops.shape(flat[0])[0]
    return flat, n


def _static_rows(flat):
    # The row count all inputs agree on, for the results' static shapes.
    rows = TensorShape([None])
    for elem in flat:
        if elem.shape.rank is not None:
            rows = rows.merge_with(elem.shape[:1])
    return rows


def _unstacked(flat, n):
    return [TensorArray(elem.dtype.base_dtype, size=n, element_shape=elem.shape[1:])
            .unstack(elem) for elem in flat]


def _stack_results(tas, rows):
    results = [ta.stack() for ta in tas]
    for result in results:
        if result.shape.rank is not None:
            result.set_shape(rows.concatenate(result.shape[1:]))
    return results


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, swap_memory=False,
           infer_shape=True, name=None):
    """`fn` applied to each row of `elems`, the results stacked (``tf.map_fn``).

    Args:
      fn: a callable taking one row (in the structure of `elems`) and returning a result in
        the structure of `dtype` (or of `elems` when `dtype` is None).
      elems: a Tensor or a nested structure of Tensors with the same first dimension.
      dtype: the result's dtype, or a nested structure of dtypes; needed when it differs from
        `elems`' dtypes or structure.
      parallel_iterations: recorded on the loop (default 10); rows run in order.
      back_prop, swap_memory: accepted for TF compatibility (gradients always flow).
      infer_shape: whether the results must share one shape (the TensorArrays' check).
      name: the name scope (default ``map``).

    Returns:
      The stacked results, in the structure of `dtype` (or `elems`).

    Raises:
      TypeError: if `fn` is not callable.
      ValueError: if `elems` holds no tensor or a scalar, or `fn`'s result has another
        structure.
    """
    del back_prop, swap_memory
    _check_callable(fn)
    parallel_iterations = parallel_iterations or 10
    with graph_lib.name_scope(name, "map"):
        flat, n = _elems(elems)
        if dtype is None:
            out_structure = elems
            out_dtypes = [elem.dtype.base_dtype for elem in flat]
        else:
            out_structure = dtype
            out_dtypes = [dtypes.as_dtype(d).base_dtype for d in _nest.flatten(dtype)]
        elems_ta = _unstacked(flat, n)
        accs_ta = [TensorArray(d, size=n, infer_shape=infer_shape) for d in out_dtypes]

        def compute(i, tas):
            value = _nest.pack_sequence_as(elems, [ta.read(i) for ta in elems_ta])
            result = fn(value)
            _nest.assert_same_structure(out_structure, result)
            return (i + 1, [ta.write(i, r) for ta, r in zip(tas, _nest.flatten(result))])

        i = array_ops.constant(0)
        _, final_tas = while_loop(lambda i, _: math_ops.less(i, n), compute, (i, accs_ta),
                                  parallel_iterations=parallel_iterations,
                                  maximum_iterations=n)
        results = _stack_results(final_tas, _static_rows(flat))
        return _nest.pack_sequence_as(out_structure, results)


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
         swap_memory=False, infer_shape=True, reverse=False, name=None):
    """The running accumulation of `fn` over the rows of `elems` (``tf.scan``).

    ``a_0 = initializer`` (or row 0 of `elems`, which is then also result 0), and
    ``a_i = fn(a_{i-1}, row_i)``; the results are every ``a_i``, stacked.

    Args:
      fn: a callable ``fn(accumulator, row)`` returning the next accumulator, in the
        structure of `initializer` (or of `elems` without one).
      elems: a Tensor or a nested structure of Tensors with the same first dimension.
      initializer: the first accumulator (a Tensor or nested structure); default: the first
        row (the last with `reverse`).
      parallel_iterations: recorded on the loop; rows run in order.
      back_prop, swap_memory: accepted for TF compatibility.
      infer_shape: whether the accumulators must keep one shape.
      reverse: scan from the last row to the first (result i still belongs to row i).
      name: the name scope (default ``scan``).

    Returns:
      The stacked accumulators, in the structure of `initializer` (or `elems`).

    Raises:
      TypeError: if `fn` is not callable.
      ValueError: if `elems` holds no tensor or a scalar, or `fn`'s result has another
        structure.
    """
    del back_prop, swap_memory
    _check_callable(fn)
    with graph_lib.name_scope(name, "scan"):
        flat, n = _elems(elems)
        out_structure = elems if initializer is None else initializer
        elems_ta = _unstacked(flat, n)
        if initializer is None:
            first = n - 1 if reverse else 0
            a_flat = [ta.read(first) for ta in elems_ta]
            start = 1
        else:
            a_flat = [graph_lib.convert_to_tensor(a) for a in _nest.flatten(initializer)]
            start = 0
        accs_ta = [TensorArray(a.dtype.base_dtype, size=n,
                               element_shape=a.shape if infer_shape else None,
                               infer_shape=infer_shape) for a in a_flat]
        if initializer is None:
            accs_ta = [ta.write(first, a) for ta, a in zip(accs_ta, a_flat)]

        def compute(i, a_flat, tas):
            row = _nest.pack_sequence_as(elems, [ta.read(i) for ta in elems_ta])
            a_out = fn(_nest.pack_sequence_as(out_structure, a_flat), row)
            _nest.assert_same_structure(out_structure, a_out)
            flat_out = _nest.flatten(a_out)
            tas = [ta.write(i, value) for ta, value in zip(tas, flat_out)]
            next_i = math_ops.subtract(i, 1) if reverse else math_ops.add(i, 1)
            return (next_i, flat_out, tas)

        if reverse:
            initial_i = math_ops.subtract(math_ops.subtract(n, 1), start)

            def condition(i, *_):
                return math_ops.greater_equal(i, 0)
        else:
            initial_i = array_ops.constant(start)

            def condition(i, *_):
                return math_ops.less(i, n)

        _, _, final_tas = while_loop(condition, compute, (initial_i, a_flat, accs_ta),
                                     parallel_iterations=parallel_iterations,
                                     maximum_iterations=n)
        results = _stack_results(final_tas, _static_rows(flat))
        return _nest.pack_sequence_as(out_structure, results)


def _fold(fn, elems, initializer, parallel_iterations, name, default_name, from_end):
    _check_callable(fn)
    with graph_lib.name_scope(name, default_name):
        flat, n = _elems(elems)
        elems_ta = _unstacked(flat, n)

        def row(i):
            return _nest.pack_sequence_as(elems, [ta.read(i) for ta in elems_ta])

        if from_end:
            # i counts the rows still to fold; the next one is i - 1.
            if initializer is None:
                i = math_ops.subtract(n, 1)
                a = row(i)
            else:
                i = graph_lib.convert_to_tensor(n, dtype=dtypes.int32)
                a = initializer

            def compute(i, a):
                i = math_ops.subtract(i, 1)
                return [i, fn(a, row(i))]

            def condition(i, _):
                return math_ops.greater(i, 0)
        else:
            if initializer is None:
                a = row(0)
                i = array_ops.constant(1)
            else:
                a = initializer
                i = array_ops.constant(0)

            def compute(i, a):
                return [math_ops.add(i, 1), fn(a, row(i))]

            def condition(i, _):
                return math_ops.less(i, n)

        _, result = while_loop(condition, compute, [i, a],
                               parallel_iterations=parallel_iterations, maximum_iterations=n)
        return result


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """`fn` folded over the rows of `elems` from the first (``tf.foldl``).

    ``a = fn(... fn(fn(initializer, row_0), row_1) ..., row_{n-1})``; without `initializer`
    the fold starts from row 0 with row 1.

    Args:
      fn: a callable ``fn(accumulator, row)`` returning the next accumulator.
      elems: a Tensor or a nested structure of Tensors with the same first dimension.
      initializer: the first accumulator; default: the first row.
      parallel_iterations: recorded on the loop; rows run in order.
      back_prop, swap_memory: accepted for TF compatibility.
      name: the name scope (default ``foldl``).

    Returns:
      The final accumulator.

    Raises:
      TypeError: if `fn` is not callable.
      ValueError: if `elems` holds no tensor or a scalar.
    """
    del back_prop, swap_memory
    return _fold(fn, elems, initializer, parallel_iterations, name, "foldl", from_end=False)


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """`fn` folded over the rows of `elems` from the last (``tf.foldr``).

    ``a = fn(... fn(fn(initializer, row_{n-1}), row_{n-2}) ..., row_0)``; without
    `initializer` the fold starts from the last row.

    Args, Returns and Raises: as for `foldl` (default name ``foldr``).
    """
    del back_prop, swap_memory
    return _fold(fn, elems, initializer, parallel_iterations, name, "foldr", from_end=True)

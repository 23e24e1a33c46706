"""The registry that teaches `Session.run` to fetch and feed composite types.

A type such as `SparseTensor` or `Variable` is not a graph element of its own: it stands for
one or more tensors. Its module registers here how to split it into those tensors and how to
rebuild a value from their results (TF's `register_session_run_conversion_functions`). The
registry lives in the framework so that the types defining conversions (framework and ops)
never import the client; the client's fetch and feed mapping only looks entries up. It must
never import the client itself.
"""

__all__ = ["register_session_run_conversion_functions", "conversion_for"]

# (type, fetch_fn, feed_fn, feed_fn_for_partial_run), searched in registration order.
_conversion_functions = []


def register_session_run_conversion_functions(tensor_type, fetch_function, feed_function=None,
                                              feed_function_for_partial_run=None):
    """Teaches `Session.run` to fetch and feed objects of `tensor_type`.

    Args:
      tensor_type: the type to handle.
      fetch_function: ``fetch_function(obj) -> (list_of_tensors, contraction_fn)``, where
        ``contraction_fn(list_of_values)`` builds the fetched value.
      feed_function: ``feed_function(obj, value) -> [(tensor, component_value), ...]``.
      feed_function_for_partial_run: ``fn(obj) -> list_of_tensors`` for partial run setup.

    Raises:
      ValueError: if `tensor_type` is already registered.
    """
    for registered, *_ in _conversion_functions:
        if registered is tensor_type:
            raise ValueError(f"{tensor_type} has already been registered.")
    _conversion_functions.append((tensor_type, fetch_function, feed_function,
                                  feed_function_for_partial_run))


def conversion_for(obj):
    """The conversion functions registered for the type of `obj`.

    Args:
      obj: a fetch or a feed key.

    Returns:
      ``(fetch_function, feed_function, feed_function_for_partial_run)`` of the first
      registered type `obj` is an instance of (the last two may be None), or None when no
      registered type matches.
    """
    for registered, fetch_fn, feed_fn, partial_fn in _conversion_functions:
        if isinstance(obj, registered):
            return fetch_fn, feed_fn, partial_fn
    return None

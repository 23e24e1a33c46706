"""The few ``tf.nest`` functions the RNN code needs: nested lists, tuples, namedtuples (such as
``LSTMStateTuple``) and dicts.

RNN states are structures: a cell's state may be a tensor, an ``LSTMStateTuple`` or a tuple of
them (``MultiRNNCell``), and the sizes in ``state_size`` mirror it. These helpers walk such
structures in TF's order (sequences in order, dicts by sorted key) and rebuild them with their
own types, which a plain ``type(x)(generator)`` cannot do for a namedtuple.
"""

__all__ = ["is_sequence", "flatten", "pack_sequence_as", "map_structure",
           "assert_same_structure"]


def is_sequence(value):
    """Whether `value` is a structure to walk (list, tuple, namedtuple or dict), not a leaf."""
    return isinstance(value, (list, tuple, dict))


def _children(value):
    if isinstance(value, dict):
        return [value[key] for key in sorted(value)]
    return list(value)


def _rebuild(like, children):
    if isinstance(like, dict):
        return type(like)(zip(sorted(like), children))
    if isinstance(like, tuple) and hasattr(like, "_fields"):  # a namedtuple
        return type(like)(*children)
    return type(like)(children)


def flatten(structure):
    """The leaves of `structure` in order, as a list (a leaf alone gives ``[leaf]``)."""
    if not is_sequence(structure):
        return [structure]
    return [leaf for child in _children(structure) for leaf in flatten(child)]


def pack_sequence_as(structure, flat_sequence):
    """`flat_sequence` rebuilt into the shape of `structure`.

    Raises:
      ValueError: if the number of leaves differs.
    """
    flat_sequence = list(flat_sequence)
    count = len(flatten(structure))
    if count != len(flat_sequence):
        raise ValueError(f"Could not pack sequence. Structure had {count} atoms, but "
                         f"flat_sequence had {len(flat_sequence)} items.")
    position = [0]

    def build(like):
        if not is_sequence(like):
            position[0] += 1
            return flat_sequence[position[0] - 1]
        return _rebuild(like, [build(child) for child in _children(like)])

    return build(structure)


def assert_same_structure(first, second):
    """Raises ValueError (TypeError for differing sequence types) unless both structures nest
    the same way."""
    if is_sequence(first) != is_sequence(second):
        raise ValueError("The two structures don't have the same nested structure.\n\n"
                         f"First structure: {first}\n\nSecond structure: {second}")
    if not is_sequence(first):
        return
    if type(first) is not type(second) and not (
            isinstance(first, (list, tuple)) and isinstance(second, (list, tuple))
            and not hasattr(first, "_fields") and not hasattr(second, "_fields")):
        raise TypeError("The two structures don't have the same sequence type. Input "
                        f"structure has type {type(first)}, while shallow structure has type "
                        f"{type(second)}.")
    first_children, second_children = _children(first), _children(second)
    if len(first_children) != len(second_children):
        raise ValueError("The two structures don't have the same number of elements.\n\n"
                         f"First structure: {first}\n\nSecond structure: {second}")
    for a, b in zip(first_children, second_children):
        assert_same_structure(a, b)


def map_structure(fn, *structures):
    """`fn` applied to the corresponding leaves of `structures`, in the first one's shape."""
    for other in structures[1:]:
        assert_same_structure(structures[0], other)
    flat = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flat)])

"""``tf.nest``: walking nested lists, tuples, namedtuples and dicts (see
``sessionlib/ops/_nest.py``, which the RNN code uses too).

``expand_composites`` is accepted for TF's signature; a `SparseTensor` is always one leaf.
"""

from sessionlib.ops import _nest

__all__ = ["flatten", "pack_sequence_as", "map_structure", "assert_same_structure",
           "is_nested"]


def is_nested(structure):
    """Whether `structure` is a list, tuple, namedtuple or dict (not a leaf)."""
    return _nest.is_sequence(structure)


def flatten(structure, expand_composites=False):
    """The leaves of `structure` in order (dicts by sorted key); a leaf gives ``[leaf]``."""
    del expand_composites
    return _nest.flatten(structure)


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """`flat_sequence` rebuilt in the shape of `structure`.

    Raises:
      ValueError: if the number of leaves differs.
    """
    del expand_composites
    return _nest.pack_sequence_as(structure, flat_sequence)


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    """Raises unless both structures nest the same way.

    Args:
      nest1, nest2: the structures.
      check_types: also require the same sequence types (a list is not a namedtuple).
      expand_composites: accepted for TF's signature.

    Raises:
      ValueError: for different nesting or lengths.
      TypeError: for different sequence types when `check_types`.
    """
    del expand_composites
    if check_types:
        _nest.assert_same_structure(nest1, nest2)
    elif len(_nest.flatten(nest1)) != len(_nest.flatten(nest2)) or \
            _nest.is_sequence(nest1) != _nest.is_sequence(nest2):
        raise ValueError("The two structures don't have the same nested structure.\n\n"
                         f"First structure: {nest1}\n\nSecond structure: {nest2}")


def map_structure(func, *structure, **kwargs):
    """`func` applied to the corresponding leaves of the structures, in the first one's shape.

    Raises:
      ValueError / TypeError: if the structures differ (see `assert_same_structure`).
    """
    kwargs.pop("check_types", None)
    kwargs.pop("expand_composites", None)
    if kwargs:
        raise ValueError(f"Only valid keyword arguments are `check_types` and "
                         f"`expand_composites`, not: {sorted(kwargs)}")
    return _nest.map_structure(func, *structure)

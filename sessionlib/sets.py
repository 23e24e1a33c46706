"""``tf.sets``: set operations along the last dimension (TF 1's names and their aliases).

Only re-exports; the ops live in ``sessionlib.ops.set_ops``.
"""

from sessionlib.ops.set_ops import set_difference, set_intersection, set_size, set_union

difference = set_difference
intersection = set_intersection
size = set_size
union = set_union

__all__ = ["difference", "intersection", "size", "union", "set_difference",
           "set_intersection", "set_size", "set_union"]

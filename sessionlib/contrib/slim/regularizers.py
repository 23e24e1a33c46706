"""``slim.regularizers``: contrib's weight regularizers (``l1_regularizer``,
``l2_regularizer``)."""

from sessionlib.contrib.layers import l1_regularizer, l2_regularizer

__all__ = ["l1_regularizer", "l2_regularizer"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"slim.regularizers.{name}")

"""``slim.initializers``: contrib's weight initializers (``xavier_initializer``,
``variance_scaling_initializer``)."""

from sessionlib.contrib.layers import (variance_scaling_initializer, xavier_initializer,
                                       xavier_initializer_conv2d)

__all__ = ["xavier_initializer", "xavier_initializer_conv2d", "variance_scaling_initializer"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"slim.initializers.{name}")

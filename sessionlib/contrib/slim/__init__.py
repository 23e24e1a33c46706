"""``tf.contrib.slim``: the names TF-slim model code uses, as one namespace
(``slim = tf.contrib.slim``).

Slim defined little of its own: it gathered contrib's layers, ``arg_scope``, variable helpers,
initializers, regularizers, losses and metrics under one name. So does this module, re-exporting
``tf.contrib.layers``, ``tf.contrib.framework`` (``arg_scope``, ``model_variable``,
``get_variables_to_restore``, ...), ``slim.losses`` (= ``tf.contrib.losses``), ``slim.metrics``
(= ``tf.contrib.metrics``), ``slim.initializers``, ``slim.regularizers``, ``slim.utils``
(``convert_collection_to_dict``, which turns the layers' ``outputs_collections`` into the
``end_points`` dict of slim's nets) and ``slim.learning`` (``create_train_op``, ``train``).

Slim's evaluation loop, data providers and ``nets`` are not provided; any other name raises
`AttributeError` naming what is.
"""

from sessionlib.contrib import framework as _framework
from sessionlib.contrib import layers as _layers
from sessionlib.contrib import losses, metrics
from sessionlib.contrib.framework import *  # noqa: F401,F403 - slim re-exports them all
from sessionlib.contrib.layers import *  # noqa: F401,F403 - slim re-exports them all
from sessionlib.contrib.slim import initializers, learning, regularizers, utils

__all__ = (list(_layers.__all__) + list(_framework.__all__)
           + ["losses", "metrics", "initializers", "learning", "regularizers", "utils"])


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"slim.{name}")

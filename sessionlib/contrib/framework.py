"""``tf.contrib.framework``: the global-step helper that TF 1 tutorials import from here."""

from sessionlib.train.training_util import get_or_create_global_step

__all__ = ["get_or_create_global_step"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"framework.{name}")

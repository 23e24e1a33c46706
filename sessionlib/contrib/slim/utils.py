"""``slim.utils``: contrib's named outputs, which slim's nets turn into their ``end_points``
(``convert_collection_to_dict``), and ``last_dimension``."""

from sessionlib.contrib._layer_utils import (append_tensor_alias, collect_named_outputs,
                                             convert_collection_to_dict,
                                             gather_tensors_aliases, get_tensor_aliases,
                                             last_dimension)

__all__ = ["append_tensor_alias", "collect_named_outputs", "convert_collection_to_dict",
           "gather_tensors_aliases", "get_tensor_aliases", "last_dimension"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"slim.utils.{name}")

"""``tf.data`` in graph mode: datasets and TF 1's iterators over them.

A `Dataset` is a lazy Python description of a pipeline (``dataset_ops.py`` says how it is
lowered and run); iterators (``iterator_ops.py``) are session resources whose kernels run the
pipeline (``runtime/kernels/dataset_kernels.py``).
"""

from sessionlib.data.dataset_ops import AUTOTUNE, Dataset, TextLineDataset
from sessionlib.data.dataset_ops import FixedLengthRecordDataset, TFRecordDataset
from sessionlib.data.iterator_ops import (Iterator, get_output_classes, get_output_shapes,
                                          get_output_types, make_initializable_iterator,
                                          make_one_shot_iterator)

__all__ = ["Dataset", "TextLineDataset", "TFRecordDataset", "FixedLengthRecordDataset",
           "Iterator", "AUTOTUNE", "make_one_shot_iterator", "make_initializable_iterator",
           "get_output_types", "get_output_shapes", "get_output_classes", "experimental"]


class experimental:  # noqa: N801 - TF's module name
    """``tf.data.experimental``: only `AUTOTUNE`."""

    AUTOTUNE = AUTOTUNE

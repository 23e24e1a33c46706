"""`summary_iterator`: the `Event` protos of an event file, in order."""

from sessionlib.lib_io import tf_record
from sessionlib.protos import event_pb2

__all__ = ["summary_iterator"]


def summary_iterator(path):
    """Yields the events of an event file (`tf.compat.v1.train.summary_iterator`).

    Args:
      path: an event file, e.g. one a `FileWriter` wrote.

    Yields:
      `Event` protos, the ``file_version`` event first.

    Raises:
      NotFoundError: if the file does not exist.
      DataLossError: at a corrupted or truncated record.
    """
    for record in tf_record.tf_record_iterator(path):
        yield event_pb2.Event.FromString(record)

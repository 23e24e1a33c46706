"""``tf.summary``: summary ops, `FileWriter` and the summary protos (TF1's names, no more).

The summary functions build ops (``summary.py``); a `FileWriter` (``writer.py``) writes what
they produce, with the graph and run metadata, to event files that TensorBoard reads, and
``summary_iterator.py`` reads them back (exported as `tf.train.summary_iterator`). Nothing here
runs a graph: summaries are fetched with `Session.run` like any tensor.
"""

from sessionlib.protos.event_pb2 import Event, SessionLog, TaggedRunMetadata
from sessionlib.protos.summary_pb2 import Summary, SummaryDescription
from sessionlib.summary.summary import (audio, get_summary_description, histogram, image,
                                        merge, merge_all, scalar, tensor_summary, text)
from sessionlib.summary.writer import FileWriter, FileWriterCache

__all__ = ["scalar", "histogram", "image", "audio", "text", "tensor_summary", "merge",
           "merge_all", "get_summary_description", "FileWriter", "FileWriterCache", "Summary",
           "SummaryDescription", "Event", "SessionLog", "TaggedRunMetadata"]

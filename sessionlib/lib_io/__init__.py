"""File formats shared by the front end and the tools: TFRecord framing (``tf_record.py``).

Event files are TFRecord files of `Event` protos; `tf.io` / `tf.python_io` expose the writer
and reader of this package.
"""

import types

from sessionlib.lib_io.tf_record import (TFRecordCompressionType, TFRecordOptions,
                                         TFRecordWriter, tf_record_iterator)

# ``tf.python_io`` (TF1's TFRecord namespace) and ``tf.io``: namespaces of the functions of
# this package; other parts of the library may add theirs (e.g. ``write_graph``).
python_io = types.ModuleType("sessionlib.python_io", "TFRecord files (``tf.python_io``).")
io = types.ModuleType("sessionlib.io", "File I/O (``tf.io``).")
for _namespace in (python_io, io):
    _namespace.TFRecordCompressionType = TFRecordCompressionType
    _namespace.TFRecordOptions = TFRecordOptions
    _namespace.TFRecordWriter = TFRecordWriter
    _namespace.tf_record_iterator = tf_record_iterator
del _namespace

__all__ = ["io", "python_io", "TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter",
           "tf_record_iterator"]

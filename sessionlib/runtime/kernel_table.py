"""The kernel table: kernel names bound to a fast (Cython) and a reference (numpy) kernel.

Design. An op's registration (``framework/registry.py``) names its kernel; it never holds or
imports one. This table, owned by the runtime, binds each name to two callables and their
calling convention:

* ``fast``: what the Cython executor calls, usually from ``sessionlib._core``;
* ``reference``: the plain numpy spec that the reference executor calls, and that the fast
  kernel is tested against (``tests/test_parity.py``).

A compiled plan holds kernel *ids* (indices into this table) and kernel *names*; a process that
receives a plan (a device worker) re-resolves the ids from its own table by name
(`ExecPlan.rebind`), so ids never cross a process boundary. The kernel families live in
``sessionlib/runtime/kernels/``; `lookup` imports them on first use, so a worker that imports
only the runtime has every kernel.

Calling conventions (the executor dispatches on the integer, so that the common elementwise
case pays for no wrapper call):

* ``KIND_GENERIC``: ``kernel(ctx, inputs, attrs) -> sequence of outputs``. `inputs` is a tuple
  of numpy arrays, `attrs` the node's plain-value attribute dict (with ``'_name'`` added), and
  `ctx` the per-run context (resources, cancellation, randomness).
* ``KIND_UNARY``: ``kernel(x) -> output`` for kernels with one input, one output and no attrs.
* ``KIND_BINARY``: ``kernel(x, y) -> output``, likewise.

Device types. Every kernel runs on a CPU device and on an emulated GPU device (both run on the
host's cores). But TF has no GPU kernel for some ops, and the placer follows TF
(``runtime/placement.py``): such an op pinned to a GPU is an error unless soft placement moves
it to the CPU, and an unpinned one never lands on a GPU. `supports_device` answers from
`CPU_ONLY_KERNELS` (string ops, summaries, checkpoint IO, readers, queues, ...: the ops of
ours that TF 2.21 registers for the CPU only) and `_GPU_DTYPE_EXCLUSIONS` (variables of the
types TF's GPU kernels lack, int32 among them). `CPU_PREFERRED_KERNELS` have a GPU kernel in TF
with a lower priority than the CPU one (the tf.data iterator ops): an unpinned one goes to the
CPU. These are facts about kernels, so they live here, not in the op registry.

This module must stay free of graph objects: the table is read inside worker processes.
"""

import threading

# The calling conventions are defined once, in the compiled executor that dispatches on them
# (sessionlib/_core/executor.pxd); this table re-exports them.
from sessionlib._core.executor import KIND_BINARY, KIND_GENERIC, KIND_UNARY

__all__ = ["KernelDef", "register_kernel", "lookup", "by_id", "all_kernel_names",
           "supports_device", "prefers_cpu", "CPU_ONLY_KERNELS", "CPU_PREFERRED_KERNELS",
           "KIND_GENERIC", "KIND_UNARY", "KIND_BINARY"]

_KINDS = (KIND_GENERIC, KIND_UNARY, KIND_BINARY)


class KernelDef:
    """One entry of the table.

    Attributes:
      name: the kernel name that op registrations refer to.
      kernel_id: the index of this entry in the table (valid in this process only).
      fast: the kernel the Cython executor calls.
      reference: the numpy kernel the reference executor calls (the spec of `fast`).
      kind: the calling convention of both (``KIND_*``).
    """

    __slots__ = ("name", "kernel_id", "fast", "reference", "kind")

    def __init__(self, name, kernel_id, fast, reference, kind):
        self.name = name
        self.kernel_id = kernel_id
        self.fast = fast
        self.reference = reference
        self.kind = kind

    def __repr__(self):
        return f"KernelDef({self.name!r}, id={self.kernel_id})"


_lock = threading.RLock()
_by_name = {}
_by_id = []
_families_loaded = False


def register_kernel(name, *, reference, fast=None, kind=KIND_GENERIC):
    """Binds kernel `name` to its reference kernel and, optionally, a faster one.

    Args:
      name: the kernel name (an op registration's `kernel`).
      reference: the numpy kernel, the spec.
      fast: the kernel the Cython executor runs; defaults to `reference` (kernels that are
        numpy or BLAS calls either way, or that only move resources).
      kind: the calling convention (``KIND_*``) of both.

    Returns:
      The new `KernelDef`.

    Raises:
      ValueError: if `name` is already bound, `kind` is unknown, or a kernel is not callable.
    """
    if kind not in _KINDS:
        raise ValueError(f"Kernel {name!r}: unknown calling convention {kind!r}")
    fast = reference if fast is None else fast
    if not callable(reference) or not callable(fast):
        raise ValueError(f"Kernel {name!r} needs callable kernels")
    with _lock:
        if name in _by_name:
            raise ValueError(f"Kernel {name!r} is already registered")
        kernel_def = KernelDef(name, len(_by_id), fast, reference, kind)
        _by_name[name] = kernel_def
        _by_id.append(kernel_def)
    return kernel_def


def _load_families():
    """Imports ``sessionlib.runtime.kernels`` once: its modules register every kernel."""
    global _families_loaded
    if _families_loaded:
        return
    with _lock:
        if not _families_loaded:
            _families_loaded = True
            import sessionlib.runtime.kernels  # noqa: F401 - fills the table


def lookup(name):
    """The `KernelDef` bound to `name`.

    Raises:
      KeyError: if no kernel of that name is registered in this process.
    """
    found = _by_name.get(name)
    if found is None:
        _load_families()
        found = _by_name.get(name)
        if found is None:
            raise KeyError(f"No kernel registered under the name {name!r}")
    return found


def by_id(kernel_id):
    """The `KernelDef` with table index `kernel_id` (an id from this process's `lookup`)."""
    return _by_id[kernel_id]


def all_kernel_names():
    """Every registered kernel name, in registration order."""
    _load_families()
    return [kernel_def.name for kernel_def in _by_id]


# Kernels TF 2.21 registers for the CPU only (checked against TF's REGISTER_KERNEL_BUILDER
# calls): an op running one of them cannot be placed on a GPU.
CPU_ONLY_KERNELS = frozenset({
    # strings
    "StringJoin", "ReduceJoin", "StringSplit", "StringSplitV2", "StringToNumber", "AsString",
    "Substr", "RegexReplace", "StaticRegexReplace", "RegexFullMatch", "StaticRegexFullMatch",
    "StringStrip", "StringLength", "StringLower", "StringUpper", "EncodeBase64", "DecodeBase64",
    "StringToHashBucketFast", "StringToHashBucket", "StringToHashBucketStrong",
    "UnsortedSegmentJoin", "StringNGrams", "UnicodeTranscode", "UnicodeEncode", "UnicodeDecode",
    "UnicodeDecodeWithOffsets",
    # summaries
    "ScalarSummary", "HistogramSummary", "ImageSummary", "AudioSummaryV2", "TensorSummaryV2",
    "MergeSummary",
    # checkpoints
    "SaveV2", "RestoreV2", "MergeV2Checkpoints", "ShardedFilename",
    # readers
    "IdentityReaderV2", "TextLineReaderV2", "WholeFileReaderV2", "ReaderReadV2",
    "ReaderReadUpToV2", "ReaderNumRecordsProducedV2", "ReaderNumWorkUnitsCompletedV2",
    "ReaderResetV2", "ReaderRestoreStateV2", "ReaderSerializeStateV2",
    # queues
    "FIFOQueueV2", "RandomShuffleQueueV2", "PaddingFIFOQueueV2", "PriorityQueueV2",
    "QueueEnqueueV2", "QueueEnqueueManyV2",
    "QueueDequeueV2", "QueueDequeueManyV2", "QueueDequeueUpToV2", "QueueCloseV2",
    "QueueSizeV2", "QueueIsClosedV2",
    # lookup tables
    "HashTableV2", "MutableHashTableV2", "MutableDenseHashTableV2", "LookupTableImportV2",
    "InitializeTableV2", "InitializeTableFromTextFileV2", "LookupTableFindV2",
    "LookupTableSizeV2", "LookupTableExportV2", "LookupTableInsertV2", "LookupTableRemoveV2",
    # gradient accumulators (session resources like the queues)
    "ResourceConditionalAccumulator", "ResourceAccumulatorApplyGradient",
    "ResourceAccumulatorTakeGradient", "ResourceAccumulatorNumAccumulated",
    "ResourceAccumulatorSetGlobalStep", "SparseConditionalAccumulator",
    "SparseAccumulatorApplyGradient", "SparseAccumulatorTakeGradient",
    # sparse ops without a GPU kernel
    "SparseAdd", "SparseAddGrad", "SparseReduceSum", "SparseReduceMax", "SparseReduceMaxSparse",
    "SparseReduceSumSparse", "SparseSoftmax", "SparseSparseMaximum", "SparseSparseMinimum",
    "SparseSplit", "SerializeSparse", "SerializeManySparse", "DeserializeManySparse",
    # set ops (tf.sets)
    "DenseToDenseSetOperation", "DenseToSparseSetOperation", "SparseToSparseSetOperation",
    "SetSize", "SparseCrossV2",
    # CTC (TF's GPU CTC loss is the cuDNN op CTCLossV2, blank first)
    "CTCLoss", "CTCGreedyDecoder", "CTCBeamSearchDecoder",
    # image box ops: of these TF has GPU kernels for CropAndResize and NMS V2 and later only
    "NonMaxSuppression", "SampleDistortedBoundingBoxV2", "DrawBoundingBoxes",
    # others
    "RandomShuffle", "ResourceCountUpTo", "OneShotIterator",
    "RandomGamma", "RandomGammaGrad", "RandomPoissonV2", "MatrixSquareRoot", "MatrixSolveLs",
    # printing; TF's Assert and IdentityN run on any device
    "Print", "PrintV2", "StringFormat",
    # record parsing and file I/O of the input path
    "ParseExampleV2", "ParseExample", "ParseSingleExample", "ParseSequenceExampleV2",
    "ParseSingleSequenceExample", "DecodeRaw", "DecodeCSV",
    "SerializeTensor", "ParseTensor", "ReadFile", "WriteFile", "TFRecordReaderV2",
    "FixedLengthRecordReaderV2",
    # Python functions (tf.py_func; TF's EagerPyFunc has a GPU kernel too)
    "PyFunc", "PyFuncStateless",
})

# Kernels with a GPU version whose CPU version TF registers with a higher priority: an
# unpinned op goes to the CPU, a pinned one may run on a GPU.
CPU_PREFERRED_KERNELS = frozenset({"IteratorV2", "MakeIterator", "IteratorGetNext"})

# Variables: TF registers the GPU kernels of VariableV2 and VarHandleOp for the float, bool,
# complex and int64 types only (TF_CALL_GPU_ALL_TYPES + int64), not for int32 (kept in host
# memory), the small integers or strings: `tf.Variable(0)` lives on the CPU.
_NO_GPU_VARIABLE_TYPES = frozenset({"int32", "int16", "int8", "uint8", "string"})
_GPU_DTYPE_EXCLUSIONS = {"VariableV2": _NO_GPU_VARIABLE_TYPES,
                         "VarHandleOp": _NO_GPU_VARIABLE_TYPES}


def supports_device(kernel_name, device_type, dtype_name=None):
    """Whether an op running kernel `kernel_name` may be placed on a `device_type` device.

    Args:
      kernel_name: the op's kernel name (its registration's ``kernel``).
      device_type: ``'CPU'`` or ``'GPU'`` (any other type is treated like a GPU).
      dtype_name: the op's ``dtype`` attribute's name (``'int32'``), for the kernels whose
        GPU version covers some types only; None when the op has none.

    Returns:
      True when TF has a kernel of that name for that device type.
    """
    if device_type == "CPU":
        return True
    if kernel_name in CPU_ONLY_KERNELS:
        return False
    excluded = _GPU_DTYPE_EXCLUSIONS.get(kernel_name)
    return excluded is None or dtype_name not in excluded


def prefers_cpu(kernel_name):
    """Whether an unpinned op running `kernel_name` goes to the CPU although a GPU could run
    it (TF's kernel priorities)."""
    return kernel_name in CPU_PREFERRED_KERNELS or kernel_name in CPU_ONLY_KERNELS

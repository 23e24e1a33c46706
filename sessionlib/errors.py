"""Run-time errors of sessionlib, with TensorFlow's classes and status codes (``tf.errors``).

``OpError`` is the base of every error raised while a graph runs; each of its 16 subclasses
stands for one canonical status code (the numbers of ``sessionlib/protos/error_codes.proto``,
which match TF's and gRPC's). Graph-construction mistakes are plain ``ValueError`` or
``TypeError``, as in TF.

This module is imported by ``import sessionlib`` and by every worker process, so it imports
nothing beyond the standard library: the codes are literals here, and a test checks them
against the generated ``error_codes_pb2``.
"""

__all__ = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "OpError",
    "CancelledError",
    "UnknownError",
    "InvalidArgumentError",
    "DeadlineExceededError",
    "NotFoundError",
    "AlreadyExistsError",
    "PermissionDeniedError",
    "UnauthenticatedError",
    "ResourceExhaustedError",
    "FailedPreconditionError",
    "AbortedError",
    "OutOfRangeError",
    "UnimplementedError",
    "InternalError",
    "UnavailableError",
    "DataLossError",
    "error_code_from_exception_type",
    "exception_type_from_error_code",
    "make_op_error",
]

# Canonical status codes (sessionlib.error.Code; identical to tensorflow.error.Code).
OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
UNAUTHENTICATED = 16
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15


def _rebuild_op_error(error_class):
    """Unpickling helper: an uninitialised instance whose state pickle then restores.

    Going through ``__new__`` rather than the constructor lets every subclass unpickle,
    whatever its ``__init__`` signature.
    """
    return error_class.__new__(error_class)


class OpError(Exception):
    """The base class of errors raised while running a graph.

    Usually raised with one of the subclasses below, which fix ``error_code``.
    """

    def __init__(self, node_def, op, message, error_code, *args):
        """Creates an error.

        Args:
            node_def: the ``NodeDef`` (or None) of the node that failed.
            op: the ``Operation`` (or None) that failed.
            message: the error message, a str.
            error_code: one of the integer codes of this module.
            *args: optionally one dict of experimental payloads (str -> str or bytes), as in
                TF; kept in ``experimental_payloads``.
        """
        super().__init__(message)
        self._node_def = node_def
        self._op = op
        self._message = message
        self._error_code = error_code
        self._experimental_payloads = dict(args[0]) if args and args[0] else {}

    def __reduce__(self):
        # Errors are pickled when they travel from a worker process to the client. The state
        # is the instance dict, so subclasses with any constructor signature round-trip, and
        # so does anything a caller attached to the error.
        return (_rebuild_op_error, (type(self),), self.__dict__.copy())

    def __setstate__(self, state):
        self.__dict__.update(state)
        # Keep ``args`` (and so ``repr``) as it was at construction.
        self.args = (self._message,)

    @property
    def message(self):
        """The error message, a str."""
        return self._message

    @property
    def op(self):
        """The ``Operation`` that failed, or None when unknown.

        An error from ``Session.run`` carries the op whose kernel failed; for an unfed
        placeholder, it is that placeholder.
        """
        return self._op

    @property
    def error_code(self):
        """The integer status code of the error."""
        return self._error_code

    @property
    def node_def(self):
        """The ``NodeDef`` of the failing node, or None when unknown."""
        return self._node_def

    @property
    def experimental_payloads(self):
        """A dict of extra details attached to the error (empty unless given)."""
        return self._experimental_payloads

    def __str__(self):
        if self._op is None:
            return str(self._message)
        op_name = getattr(self._op, "name", None)
        creation_traceback = getattr(self._op, "traceback", None)
        if not creation_traceback:
            return f"{self._message}\n\nThe error was raised by op {op_name!r}."
        import traceback  # Deferred: only needed when an error is actually shown.

        try:
            frames = traceback.format_list(creation_traceback)
        except (TypeError, ValueError, AttributeError):
            # An op traceback of an unexpected shape must never hide the real error.
            return f"{self._message}\n\nThe error was raised by op {op_name!r}."
        return (
            f"{self._message}\n\nOriginal stack trace for {op_name!r}:\n" + "".join(frames)
        )


class CancelledError(OpError):
    """An operation or step was cancelled, e.g. by ``Session.close()`` or a closed queue."""

    def __init__(self, node_def, op, message, *args):
        """Creates a ``CancelledError`` (code ``CANCELLED``); see ``OpError``."""
        super().__init__(node_def, op, message, CANCELLED, *args)


class UnknownError(OpError):
    """An error of an unknown kind, including errors with an unrecognised status code."""

    def __init__(self, node_def, op, message, error_code=UNKNOWN, *args):
        """Creates an ``UnknownError``; see ``OpError``.

        Args:
            node_def: see ``OpError``.
            op: see ``OpError``.
            message: see ``OpError``.
            error_code: the code to report; ``UNKNOWN`` unless it comes from elsewhere
                (e.g. a code that has no class of its own).
            *args: see ``OpError``.
        """
        super().__init__(node_def, op, message, error_code, *args)


class InvalidArgumentError(OpError):
    """An op received an invalid argument, e.g. a value of the wrong shape or an unfed
    placeholder."""

    def __init__(self, node_def, op, message, *args):
        """Creates an ``InvalidArgumentError`` (code ``INVALID_ARGUMENT``); see ``OpError``."""
        super().__init__(node_def, op, message, INVALID_ARGUMENT, *args)


class DeadlineExceededError(OpError):
    """A deadline (``RunOptions.timeout_in_ms`` or ``operation_timeout_in_ms``) expired."""

    def __init__(self, node_def, op, message, *args):
        """Creates a ``DeadlineExceededError`` (code ``DEADLINE_EXCEEDED``); see ``OpError``."""
        super().__init__(node_def, op, message, DEADLINE_EXCEEDED, *args)


class NotFoundError(OpError):
    """A requested entity (file, device, session target) was not found."""

    def __init__(self, node_def, op, message, *args):
        """Creates a ``NotFoundError`` (code ``NOT_FOUND``); see ``OpError``."""
        super().__init__(node_def, op, message, NOT_FOUND, *args)


class AlreadyExistsError(OpError):
    """An entity that an op tried to create already exists."""

    def __init__(self, node_def, op, message, *args):
        """Creates an ``AlreadyExistsError`` (code ``ALREADY_EXISTS``); see ``OpError``."""
        super().__init__(node_def, op, message, ALREADY_EXISTS, *args)


class PermissionDeniedError(OpError):
    """The caller lacks permission for an operation."""

    def __init__(self, node_def, op, message, *args):
        """Creates a ``PermissionDeniedError`` (code ``PERMISSION_DENIED``); see ``OpError``."""
        super().__init__(node_def, op, message, PERMISSION_DENIED, *args)


class UnauthenticatedError(OpError):
    """The request lacks valid authentication credentials."""

    def __init__(self, node_def, op, message, *args):
        """Creates an ``UnauthenticatedError`` (code ``UNAUTHENTICATED``); see ``OpError``."""
        super().__init__(node_def, op, message, UNAUTHENTICATED, *args)


class ResourceExhaustedError(OpError):
    """A resource (memory, shared memory, disk, a quota) ran out."""

    def __init__(self, node_def, op, message, *args):
        """Creates a ``ResourceExhaustedError`` (code ``RESOURCE_EXHAUSTED``); see
        ``OpError``."""
        super().__init__(node_def, op, message, RESOURCE_EXHAUSTED, *args)


class FailedPreconditionError(OpError):
    """The system is not in a state the operation needs, e.g. an uninitialized variable."""

    def __init__(self, node_def, op, message, *args):
        """Creates a ``FailedPreconditionError`` (code ``FAILED_PRECONDITION``); see
        ``OpError``."""
        super().__init__(node_def, op, message, FAILED_PRECONDITION, *args)


class AbortedError(OpError):
    """An operation was aborted, typically by a concurrency conflict or a lost worker."""

    def __init__(self, node_def, op, message, *args):
        """Creates an ``AbortedError`` (code ``ABORTED``); see ``OpError``."""
        super().__init__(node_def, op, message, ABORTED, *args)


class OutOfRangeError(OpError):
    """An operation went past the valid range, e.g. a dequeue from a closed, empty queue."""

    def __init__(self, node_def, op, message, *args):
        """Creates an ``OutOfRangeError`` (code ``OUT_OF_RANGE``); see ``OpError``."""
        super().__init__(node_def, op, message, OUT_OF_RANGE, *args)


class UnimplementedError(OpError):
    """An operation is not implemented or not supported (e.g. for this dtype)."""

    def __init__(self, node_def, op, message, *args):
        """Creates an ``UnimplementedError`` (code ``UNIMPLEMENTED``); see ``OpError``."""
        super().__init__(node_def, op, message, UNIMPLEMENTED, *args)


class InternalError(OpError):
    """An internal invariant was broken: a bug in sessionlib."""

    def __init__(self, node_def, op, message, *args):
        """Creates an ``InternalError`` (code ``INTERNAL``); see ``OpError``."""
        super().__init__(node_def, op, message, INTERNAL, *args)


class UnavailableError(OpError):
    """A service (e.g. a worker process) is unavailable; retrying may succeed."""

    def __init__(self, node_def, op, message, *args):
        """Creates an ``UnavailableError`` (code ``UNAVAILABLE``); see ``OpError``."""
        super().__init__(node_def, op, message, UNAVAILABLE, *args)


class DataLossError(OpError):
    """Unrecoverable data loss or corruption, e.g. a truncated file."""

    def __init__(self, node_def, op, message, *args):
        """Creates a ``DataLossError`` (code ``DATA_LOSS``); see ``OpError``."""
        super().__init__(node_def, op, message, DATA_LOSS, *args)


_CODE_TO_EXCEPTION_CLASS = {
    CANCELLED: CancelledError,
    UNKNOWN: UnknownError,
    INVALID_ARGUMENT: InvalidArgumentError,
    DEADLINE_EXCEEDED: DeadlineExceededError,
    NOT_FOUND: NotFoundError,
    ALREADY_EXISTS: AlreadyExistsError,
    PERMISSION_DENIED: PermissionDeniedError,
    UNAUTHENTICATED: UnauthenticatedError,
    RESOURCE_EXHAUSTED: ResourceExhaustedError,
    FAILED_PRECONDITION: FailedPreconditionError,
    ABORTED: AbortedError,
    OUT_OF_RANGE: OutOfRangeError,
    UNIMPLEMENTED: UnimplementedError,
    INTERNAL: InternalError,
    UNAVAILABLE: UnavailableError,
    DATA_LOSS: DataLossError,
}

_EXCEPTION_CLASS_TO_CODE = {
    error_class: code for code, error_class in _CODE_TO_EXCEPTION_CLASS.items()
}


def exception_type_from_error_code(error_code):
    """Returns the ``OpError`` subclass for a status code.

    Args:
        error_code: an integer status code.

    Returns:
        The matching class; ``UnknownError`` for ``OK`` or a code without a class, as TF
        does when it turns a status into an exception.
    """
    return _CODE_TO_EXCEPTION_CLASS.get(error_code, UnknownError)


def error_code_from_exception_type(cls):
    """Returns the status code of an ``OpError`` subclass.

    Args:
        cls: an exception class.

    Returns:
        The code of ``cls``, or of its nearest base among the 16 classes of this module
        (so user subclasses of ``InvalidArgumentError`` give ``INVALID_ARGUMENT``);
        ``UNKNOWN`` for any other class, ``OpError`` itself included.
    """
    for base in getattr(cls, "__mro__", ()):
        code = _EXCEPTION_CLASS_TO_CODE.get(base)
        if code is not None:
            return code
    return UNKNOWN


def make_op_error(error_code, message, node_def=None, op=None, payloads=None):
    """Builds the right ``OpError`` subclass for a status code.

    The runtime uses this to turn a (code, message) pair, e.g. one reported by a worker
    process, back into an exception.

    Args:
        error_code: an integer status code; one without a class of its own gives an
            ``UnknownError`` that keeps this code.
        message: the error message.
        node_def: the failing node's ``NodeDef``, if known.
        op: the failing ``Operation``, if known.
        payloads: optional dict for ``experimental_payloads``.

    Returns:
        An ``OpError`` instance (not raised).
    """
    error_class = exception_type_from_error_code(error_code)
    if error_class is UnknownError:
        return UnknownError(node_def, op, message, error_code, payloads)
    return error_class(node_def, op, message, payloads)

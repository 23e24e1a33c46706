"""sessionlib.errors follows tf.errors: classes, codes, lookups, messages, pickling."""

import copy
import pathlib
import pickle
import subprocess
import sys

import pytest

from sessionlib import errors

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent

# (class, code constant name, TF's number) for the 16 subclasses.
EXPECTED_CLASSES = [
    (errors.CancelledError, "CANCELLED", 1),
    (errors.UnknownError, "UNKNOWN", 2),
    (errors.InvalidArgumentError, "INVALID_ARGUMENT", 3),
    (errors.DeadlineExceededError, "DEADLINE_EXCEEDED", 4),
    (errors.NotFoundError, "NOT_FOUND", 5),
    (errors.AlreadyExistsError, "ALREADY_EXISTS", 6),
    (errors.PermissionDeniedError, "PERMISSION_DENIED", 7),
    (errors.ResourceExhaustedError, "RESOURCE_EXHAUSTED", 8),
    (errors.FailedPreconditionError, "FAILED_PRECONDITION", 9),
    (errors.AbortedError, "ABORTED", 10),
    (errors.OutOfRangeError, "OUT_OF_RANGE", 11),
    (errors.UnimplementedError, "UNIMPLEMENTED", 12),
    (errors.InternalError, "INTERNAL", 13),
    (errors.UnavailableError, "UNAVAILABLE", 14),
    (errors.DataLossError, "DATA_LOSS", 15),
    (errors.UnauthenticatedError, "UNAUTHENTICATED", 16),
]


class FakeOp:
    """Stands in for an Operation: errors only read ``name`` and ``traceback``."""

    def __init__(self, name, traceback=None):
        self.name = name
        self.traceback = traceback


def test_code_constants():
    assert errors.OK == 0
    for _, constant_name, number in EXPECTED_CLASSES:
        assert getattr(errors, constant_name) == number, constant_name


def test_code_constants_match_the_error_codes_proto():
    from sessionlib.protos import error_codes_pb2

    for name, number in error_codes_pb2.Code.items():
        if name.startswith("DO_NOT_USE"):
            continue
        assert getattr(errors, name) == number, name


@pytest.mark.parametrize("error_class, constant_name, number", EXPECTED_CLASSES)
def test_each_subclass_sets_its_code(error_class, constant_name, number):
    error = error_class("node-def", None, "went wrong")
    assert isinstance(error, errors.OpError)
    assert isinstance(error, Exception)
    assert error.error_code == number
    assert error.message == "went wrong"
    assert error.node_def == "node-def"
    assert error.op is None
    assert error.experimental_payloads == {}
    assert errors.error_code_from_exception_type(error_class) == number
    assert errors.exception_type_from_error_code(number) is error_class


def test_hierarchy_is_flat_under_op_error():
    for error_class, _, _ in EXPECTED_CLASSES:
        assert error_class.__bases__ == (errors.OpError,)
    assert errors.OpError.__bases__ == (Exception,)
    assert len({error_class for error_class, _, _ in EXPECTED_CLASSES}) == 16


def test_op_error_base_takes_an_explicit_code():
    error = errors.OpError(None, None, "boom", errors.ABORTED)
    assert error.error_code == 10
    assert str(error) == "boom"


def test_unknown_error_accepts_a_custom_code():
    assert errors.UnknownError(None, None, "m").error_code == errors.UNKNOWN
    assert errors.UnknownError(None, None, "m", 42).error_code == 42
    assert errors.UnknownError(None, None, "m", error_code=7).error_code == 7


def test_payloads_are_kept():
    error = errors.InvalidArgumentError(None, None, "m", {"key": b"value"})
    assert error.experimental_payloads == {"key": b"value"}


def test_exception_type_from_unknown_code_is_unknown_error():
    assert errors.exception_type_from_error_code(999) is errors.UnknownError
    assert errors.exception_type_from_error_code(errors.OK) is errors.UnknownError


def test_error_code_from_exception_type_for_other_classes():
    class MyInvalidArgument(errors.InvalidArgumentError):
        pass

    assert errors.error_code_from_exception_type(MyInvalidArgument) == 3
    assert errors.error_code_from_exception_type(errors.OpError) == errors.UNKNOWN
    assert errors.error_code_from_exception_type(ValueError) == errors.UNKNOWN


def test_make_op_error_builds_the_matching_class():
    error = errors.make_op_error(errors.NOT_FOUND, "no such file", payloads={"p": "q"})
    assert type(error) is errors.NotFoundError
    assert error.error_code == 5
    assert error.message == "no such file"
    assert error.experimental_payloads == {"p": "q"}
    odd = errors.make_op_error(77, "odd")
    assert type(odd) is errors.UnknownError
    assert odd.error_code == 77


def test_str_is_the_message_without_an_op():
    error = errors.InvalidArgumentError(None, None, "You must feed a value for 'x'")
    assert str(error) == "You must feed a value for 'x'"
    assert repr(error) == 'InvalidArgumentError("You must feed a value for \'x\'")'
    with pytest.raises(errors.OpError, match="must feed"):
        raise error


def test_str_names_the_op():
    error = errors.InvalidArgumentError(None, FakeOp("x"), "bad")
    assert str(error) == "bad\n\nThe error was raised by op 'x'."
    assert error.op.name == "x"


def test_str_includes_the_ops_creation_traceback():
    frames = [("model.py", 12, "build", "y = tf.add(x, 1)")]
    error = errors.InvalidArgumentError(None, FakeOp("y", frames), "bad")
    assert str(error) == (
        "bad\n\nOriginal stack trace for 'y':\n"
        '  File "model.py", line 12, in build\n'
        "    y = tf.add(x, 1)\n"
    )


def test_str_survives_a_malformed_traceback():
    error = errors.InternalError(None, FakeOp("z", traceback=[42]), "bad")
    assert str(error) == "bad\n\nThe error was raised by op 'z'."


@pytest.mark.parametrize("error_class, constant_name, number", EXPECTED_CLASSES)
def test_pickle_round_trip(error_class, constant_name, number):
    from sessionlib.protos import NodeDef

    node_def = NodeDef(name="x", op="Placeholder")
    # UnknownError's fourth argument is its code; the payloads come after it.
    extra_args = (errors.UNKNOWN,) if error_class is errors.UnknownError else ()
    error = error_class(node_def, None, "message for " + constant_name, *extra_args, {"k": b"v"})
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is error_class
    assert restored.error_code == number
    assert restored.message == "message for " + constant_name
    assert restored.node_def == node_def
    assert restored.op is None
    assert restored.experimental_payloads == {"k": b"v"}
    assert str(restored) == str(error)
    assert restored.args == error.args


def test_pickle_keeps_a_custom_code_and_a_picklable_op():
    error = errors.UnknownError(None, FakeOp("w"), "m", 42)
    restored = pickle.loads(pickle.dumps(error, protocol=pickle.HIGHEST_PROTOCOL))
    assert restored.error_code == 42
    assert restored.op.name == "w"
    assert str(restored) == "m\n\nThe error was raised by op 'w'."


def test_pickle_and_copy_of_a_user_subclass_with_another_signature():
    class CustomError(errors.OutOfRangeError):
        def __init__(self, detail):
            super().__init__(None, None, f"custom: {detail}")
            self.detail = detail

    error = CustomError("end of input")
    for restored in (copy.copy(error), copy.deepcopy(error)):
        assert type(restored) is CustomError
        assert restored.detail == "end of input"
        assert restored.error_code == errors.OUT_OF_RANGE
        assert restored.message == "custom: end of input"


def test_all_lists_the_public_names():
    for name in errors.__all__:
        assert hasattr(errors, name), name
    for error_class, constant_name, _ in EXPECTED_CLASSES:
        assert error_class.__name__ in errors.__all__
        assert constant_name in errors.__all__
    assert "OK" in errors.__all__
    assert "error_code_from_exception_type" in errors.__all__
    assert "exception_type_from_error_code" in errors.__all__


def test_module_imports_only_the_standard_library():
    # Loaded by path in a fresh interpreter, so the check does not depend on what
    # sessionlib/__init__.py imports.
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('errors_alone', "
        f"{str(REPO_ROOT / 'sessionlib' / 'errors.py')!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "heavy = [name for name in ('numpy', 'google.protobuf') if name in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert module.InvalidArgumentError(None, None, 'm').error_code == 3\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr

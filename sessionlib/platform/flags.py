"""``tf.flags`` / ``tf.app.flags``: command-line flags with absl's interface, in plain Python.

TF 1 scripts declare flags at module level (``tf.flags.DEFINE_integer('steps', 100, '...')``)
and read them as ``FLAGS.steps`` once `tf.app.run` has parsed ``sys.argv``. As TF's wrapper
around absl does, reading a flag before anything parsed the command line parses ``sys.argv``
then. The syntax is absl's: ``--name=value``, ``--name value``, a single dash, ``--flag`` /
``--noflag`` for booleans, repeated ``--name`` for the multi flags, ``--`` ends the flags;
arguments that are not flags are returned (after the program name) in order.

A module of our own rather than a dependency on absl-py: the part of absl that TF 1 scripts use
is small, and sessionlib's only dependencies are numpy, protobuf and crc32c.
"""

import sys
import threading

__all__ = ["FLAGS", "FlagValues", "Flag", "FlagHolder", "Error", "IllegalFlagValueError",
           "UnrecognizedFlagError", "DuplicateFlagError", "ValidationError",
           "UnparsedFlagAccessError", "DEFINE_string", "DEFINE_integer", "DEFINE_float",
           "DEFINE_boolean", "DEFINE_bool", "DEFINE_enum", "DEFINE_list",
           "DEFINE_spaceseplist", "DEFINE_multi_string", "DEFINE_multi_integer",
           "DEFINE_multi_float", "mark_flag_as_required", "mark_flags_as_required",
           "register_validator", "validator"]


class Error(Exception):
    """The base class of the flag errors."""


class IllegalFlagValueError(Error):
    """A value that does not parse as the flag's type or fails its bounds or validator."""


class UnrecognizedFlagError(Error):
    """A command-line flag that is not defined."""


class DuplicateFlagError(Error):
    """A second definition of a flag name."""


class ValidationError(Error):
    """A required flag without a value, or a validator that said no."""


class UnparsedFlagAccessError(Error):
    """A flag read while parsing is impossible (kept for absl's names)."""


_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")


def _parse_bool(text):
    if isinstance(text, bool):
        return text
    lowered = str(text).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"Non-boolean argument to boolean flag: {text!r}")


def _parse_int(text):
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    text = str(text).strip()
    try:
        return int(text, 0)
    except ValueError:
        return int(text)  # a decimal with leading zeros, such as '010'


def _bounded(parse, lower, upper):
    def parse_in_bounds(text):
        value = parse(text)
        if lower is not None and value < lower:
            raise ValueError(f"{value} is not >= {lower}")
        if upper is not None and value > upper:
            raise ValueError(f"{value} is not <= {upper}")
        return value

    return parse_in_bounds


def _parse_list(separator):
    def parse(text):
        if isinstance(text, (list, tuple)):
            return list(text)
        text = str(text).strip()
        if not text:
            return []
        if separator is None:
            return text.split()
        return [item.strip() for item in text.split(separator)]

    return parse


class Flag:
    """One flag: its name, type (a parser from text), default, help and current value.

    Args:
      name: the flag's name.
      default: the default (text is parsed like a command-line value; None stays None).
      help_text: the line shown by ``--help``.
      parser: text -> value; raises ValueError for bad text.
      boolean: a boolean flag (``--name`` and ``--noname`` need no value).
      multi: a repeatable flag whose value is the list of every occurrence.
      type_name: the name shown in errors and help.
    """

    def __init__(self, name, default, help_text, parser, boolean=False, multi=False,
                 type_name="string"):
        self.name = name
        self.help = help_text
        self.parser = parser
        self.boolean = boolean
        self.multi = multi
        self.type_name = type_name
        self.default = self._convert(default)
        self.value = self.default
        self.present = 0
        self.validators = []

    def _convert(self, value):
        if value is None:
            return None
        try:
            if self.multi:
                items = value if isinstance(value, (list, tuple)) else [value]
                return [self.parser(item) for item in items]
            return self.parser(value)
        except (TypeError, ValueError) as error:
            raise IllegalFlagValueError(
                f"flag --{self.name}={value}: {error}") from None

    def parse(self, text):
        """Sets the value from one command-line occurrence (appended for a multi flag)."""
        value = self._convert(text)
        if self.multi:
            self.value = (self.value if self.present else []) + value
        else:
            self.value = value
        self.present += 1

    def unparse(self):
        """Back to the default, as if never given."""
        self.value = self.default
        self.present = 0


class FlagHolder:
    """What ``DEFINE_*`` returns: ``holder.value`` reads the flag (absl's typed handle)."""

    def __init__(self, flag_values, flag):
        self._flag_values = flag_values
        self._flag = flag

    @property
    def name(self):
        return self._flag.name

    @property
    def value(self):
        return getattr(self._flag_values, self._flag.name)

    @property
    def default(self):
        return self._flag.default

    @property
    def present(self):
        return bool(self._flag.present)


class FlagValues:
    """A registry of flags and their values (``FLAGS``).

    ``FLAGS.name`` reads a value (parsing ``sys.argv`` first if nothing was parsed yet), and
    ``FLAGS.name = value`` sets one; ``FLAGS(argv)`` parses a command line and returns the
    arguments that are not flags, the program name first.
    """

    def __init__(self):
        object.__setattr__(self, "_flags", {})
        # TF 1 scripts before absl read ``FLAGS.__flags`` (name -> flag) to print their
        # configuration; absl kept that dict under the same key.
        object.__setattr__(self, "__flags", self._flags)
        object.__setattr__(self, "_parsed", False)
        object.__setattr__(self, "_required", [])
        object.__setattr__(self, "_lock", threading.RLock())

    # --- definitions ---
    def _define(self, flag):
        with self._lock:
            if flag.name in self._flags:
                raise DuplicateFlagError(f"The flag '{flag.name}' is defined twice.")
            self._flags[flag.name] = flag
        return FlagHolder(self, flag)

    def __contains__(self, name):
        return name in self._flags

    def __getitem__(self, name):
        return self._flags[name]

    def __iter__(self):
        return iter(list(self._flags))

    def __len__(self):
        return len(self._flags)

    def __dir__(self):
        return sorted(self._flags)

    # --- values ---
    def __getattr__(self, name):
        flags = object.__getattribute__(self, "_flags")
        if name not in flags:
            raise AttributeError(name)
        if not self._parsed:
            # TF's flags parse the real command line on first use, so that a flag read at
            # import time or without tf.app.run still sees it.
            self(sys.argv)
        return flags[name].value

    def __setattr__(self, name, value):
        flag = self._flags.get(name)
        if flag is None:
            raise AttributeError(f"Unknown flag {name!r}: define it before setting it")
        flag.value = flag._convert(value)
        self._check_validators(flag)

    def __delattr__(self, name):
        if name not in self._flags:
            raise AttributeError(name)
        del self._flags[name]

    def is_parsed(self):
        """Whether a command line was parsed (or `mark_as_parsed` was called)."""
        return self._parsed

    def mark_as_parsed(self):
        """Lets flags be read without parsing ``sys.argv`` (they keep their defaults)."""
        object.__setattr__(self, "_parsed", True)

    def unparse_flags(self):
        """Every flag back to its default, and the command line unparsed again."""
        for flag in self._flags.values():
            flag.unparse()
        object.__setattr__(self, "_parsed", False)

    def set_default(self, name, value):
        """Changes flag `name`'s default (and its value, if it was not given)."""
        flag = self._flags[name]
        flag.default = flag._convert(value)
        if not flag.present:
            flag.value = flag.default

    def get_flag_value(self, name, default):
        """The value of flag `name`, or `default` when no such flag is defined."""
        return getattr(self, name) if name in self._flags else default

    def flag_values_dict(self):
        """``{name: value}`` of every flag."""
        return {name: flag.value for name, flag in self._flags.items()}

    # --- parsing ---
    def _lookup(self, name):
        """(flag, value for a bare boolean) for command-line name `name`, or (None, None)."""
        flag = self._flags.get(name)
        if flag is not None:
            return flag, (True if flag.boolean else None)
        if name.startswith("no"):
            flag = self._flags.get(name[2:])
            if flag is not None and flag.boolean:
                return flag, False
        return None, None

    def __call__(self, argv, known_only=False):
        """Parses `argv` (the program name first) and returns the program name followed by
        the arguments that are not flags.

        Raises:
          UnrecognizedFlagError: for an undefined flag (unless `known_only`, which keeps it).
          IllegalFlagValueError: for a value that does not parse, or a missing value.
          ValidationError: for a required flag left None, or a failed validator.
        """
        if isinstance(argv, str):
            raise TypeError("argv should be a tuple/list of strings, not bytes or string.")
        argv = list(argv)
        if not argv:
            raise ValueError("argv cannot be an empty list, and must contain the program name "
                             "as the first element.")
        remaining = [argv[0]]
        arguments = argv[1:]
        with self._lock:
            index = 0
            while index < len(arguments):
                argument = arguments[index]
                index += 1
                if argument == "--":
                    remaining.extend(arguments[index:])
                    break
                if not argument.startswith("-") or argument == "-":
                    remaining.append(argument)
                    continue
                name, has_value, value = argument.lstrip("-").partition("=")
                if name in ("help", "helpfull", "h", "?") and not has_value:
                    print(self.usage(argv[0]))
                    sys.exit(0)
                flag, bare = self._lookup(name)
                if flag is None:
                    if known_only:
                        remaining.append(argument)
                        continue
                    raise UnrecognizedFlagError(f"Unknown command line flag '{name}'")
                if flag.boolean:
                    if has_value:
                        if bare is False:
                            raise IllegalFlagValueError(
                                f"Boolean flag --no{flag.name} takes no value")
                        flag.parse(value)
                    else:
                        flag.parse(bare)
                    continue
                if not has_value:
                    if index >= len(arguments):
                        raise IllegalFlagValueError(f"Flag --{name} needs a value")
                    value = arguments[index]
                    index += 1
                flag.parse(value)
            object.__setattr__(self, "_parsed", True)
            self.validate_all_flags()
        return remaining

    def _check_validators(self, flag):
        for checker, message in flag.validators:
            if not checker(flag.value):
                raise ValidationError(f"flag --{flag.name}={flag.value}: {message}")

    def validate_all_flags(self):
        """Checks the required flags and the validators.

        Raises:
          ValidationError: for a required flag that is None, or a validator that fails.
        """
        for name in self._required:
            if name in self._flags and self._flags[name].value is None:
                raise ValidationError(f"Flag --{name} must have a value other than None.")
        for flag in self._flags.values():
            self._check_validators(flag)

    def usage(self, program="program"):
        """The ``--help`` text: each flag with its help and default."""
        lines = [f"USAGE: {program} [flags]", "flags:"]
        for name in sorted(self._flags):
            flag = self._flags[name]
            lines.append(f"  --{name}: {flag.help}")
            lines.append(f"    (default: {flag.default!r})")
        return "\n".join(lines)

    def __str__(self):
        return self.usage()


FLAGS = FlagValues()


def _define(flag_values, flag):
    return (flag_values if flag_values is not None else FLAGS)._define(flag)


def DEFINE_string(name, default, help, flag_values=None, **kwargs):  # noqa: N802,A002
    """Defines a string flag; returns its `FlagHolder`.

    Raises:
      DuplicateFlagError: if `name` is defined already.
    """
    del kwargs
    return _define(flag_values, Flag(name, default, help, str))


def DEFINE_integer(name, default, help, lower_bound=None, upper_bound=None,  # noqa: N802,A002
                   flag_values=None, **kwargs):
    """Defines an integer flag (decimal, or 0x/0o/0b prefixed), with optional bounds."""
    del kwargs
    return _define(flag_values, Flag(name, default, help,
                                     _bounded(_parse_int, lower_bound, upper_bound),
                                     type_name="integer"))


def DEFINE_float(name, default, help, lower_bound=None, upper_bound=None,  # noqa: N802,A002
                 flag_values=None, **kwargs):
    """Defines a float flag, with optional bounds."""
    del kwargs
    return _define(flag_values, Flag(name, default, help,
                                     _bounded(float, lower_bound, upper_bound),
                                     type_name="float"))


def DEFINE_boolean(name, default, help, flag_values=None, **kwargs):  # noqa: N802,A002
    """Defines a boolean flag: ``--name``, ``--noname`` or ``--name=true/false/1/0``."""
    del kwargs
    return _define(flag_values, Flag(name, default, help, _parse_bool, boolean=True,
                                     type_name="bool"))


DEFINE_bool = DEFINE_boolean


def DEFINE_enum(name, default, enum_values, help, flag_values=None, **kwargs):  # noqa: N802,A002
    """Defines a string flag whose value must be one of `enum_values`.

    Raises:
      ValueError: if `enum_values` is empty.
    """
    del kwargs
    enum_values = list(enum_values)
    if not enum_values:
        raise ValueError("enum_values cannot be empty")

    def parse(text):
        if text not in enum_values:
            raise ValueError(f"value should be one of <{'|'.join(enum_values)}>")
        return text

    return _define(flag_values, Flag(name, default, help, parse, type_name="enum"))


def DEFINE_list(name, default, help, flag_values=None, **kwargs):  # noqa: N802,A002
    """Defines a flag whose value is a comma-separated list of strings."""
    del kwargs
    return _define(flag_values, Flag(name, default, help, _parse_list(","), type_name="list"))


def DEFINE_spaceseplist(name, default, help, flag_values=None, **kwargs):  # noqa: N802,A002
    """Defines a flag whose value is a whitespace-separated list of strings."""
    del kwargs
    return _define(flag_values, Flag(name, default, help, _parse_list(None), type_name="list"))


def DEFINE_multi_string(name, default, help, flag_values=None, **kwargs):  # noqa: N802,A002
    """Defines a repeatable string flag: its value is the list of every occurrence."""
    del kwargs
    return _define(flag_values, Flag(name, default, help, str, multi=True))


def DEFINE_multi_integer(name, default, help, lower_bound=None,  # noqa: N802,A002
                         upper_bound=None, flag_values=None, **kwargs):
    """Defines a repeatable integer flag."""
    del kwargs
    return _define(flag_values, Flag(name, default, help,
                                     _bounded(_parse_int, lower_bound, upper_bound),
                                     multi=True, type_name="integer"))


def DEFINE_multi_float(name, default, help, lower_bound=None,  # noqa: N802,A002
                       upper_bound=None, flag_values=None, **kwargs):
    """Defines a repeatable float flag."""
    del kwargs
    return _define(flag_values, Flag(name, default, help,
                                     _bounded(float, lower_bound, upper_bound),
                                     multi=True, type_name="float"))


def mark_flag_as_required(flag_name, flag_values=None):
    """Makes parsing fail unless flag `flag_name` ends up with a value other than None.

    Raises:
      KeyError: if the flag is not defined.
    """
    flag_values = flag_values if flag_values is not None else FLAGS
    if flag_name not in flag_values:
        raise KeyError(f"Flag --{flag_name} is not defined")
    flag_values._required.append(flag_name)


def mark_flags_as_required(flag_names, flag_values=None):
    """`mark_flag_as_required` for each name."""
    for flag_name in flag_names:
        mark_flag_as_required(flag_name, flag_values)


def register_validator(flag_name, checker, message="Flag validation failed",
                       flag_values=None):
    """Makes parsing (and assignment) fail with `message` unless ``checker(value)`` is true."""
    flag_values = flag_values if flag_values is not None else FLAGS
    flag_values[flag_name].validators.append((checker, message))


def validator(flag_name, message="Flag validation failed", flag_values=None):
    """Decorator form of `register_validator`."""
    def decorate(checker):
        register_validator(flag_name, checker, message, flag_values)
        return checker

    return decorate

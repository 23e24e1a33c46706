"""``tf.contrib.training``: `HParams`, TF 1.15's hyper-parameter container, and `parse_values`,
the parser of its ``"name=value,other=[1,2]"`` strings.

The rules are TF 1.15's: a hyper-parameter's type is fixed by its first value (a list's by its
first element); setting it later converts the new value only where no information is lost
(an int becomes a float, a float never becomes an int, strings and booleans stay apart); the
parser accepts ``name=value``, ``name=[v1,v2]`` and ``name[i]=value`` items separated by
commas, and its errors name the offending item and the whole string. The proto form
(``hparam_def``, ``to_proto``) is not provided: sessionlib has no protobuf dependency.
"""

import json
import numbers
import re

__all__ = ["HParams", "parse_values"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"training.{name}")


# One item of a hyper-parameter string: a name (letters, digits, '_' and '.', starting with a
# letter), an optional "[index]", '=', then a scalar (no ',' or '[') or a bracketed list,
# followed by the end of the string or a comma.
_ITEM_RE = re.compile(r"""
  (?P<name>[a-zA-Z][\w\.]*)
  (\[\s*(?P<index>\d+)\s*\])?
  \s*=\s*
  ((?P<val>[^,\[]*)
   |
   \[(?P<vals>[^\]]*)\])
  ($|,\s*)""", re.VERBOSE)


def _parse_fail(name, var_type, value, values):
    raise ValueError(f"Could not parse hparam '{name}' of type '{var_type.__name__}' with "
                     f"value '{value}' in {values}")


def _reuse_fail(name, values):
    raise ValueError(f"Multiple assignments to variable '{name}' in {values}")


def _bool_parser(name, values):
    """TF's boolean spellings: true/True, false/False, or an integer (non-zero is True)."""

    def parse(text):
        if text in ("true", "True"):
            return True
        if text in ("false", "False"):
            return False
        try:
            return bool(int(text))
        except ValueError:
            _parse_fail(name, bool, text, values)

    return parse


def _parse_scalar(name, parse, var_type, item, values, results):
    try:
        parsed = parse(item["val"])
    except ValueError:
        _parse_fail(name, var_type, item["val"], values)
    if not item["index"]:
        if name in results:
            _reuse_fail(name, values)
        results[name] = parsed
        return
    # "name[i]=v" collects into {i: v}; a plain assignment of the same name conflicts.
    if name in results:
        if not isinstance(results[name], dict):
            _reuse_fail(name, values)
    else:
        results[name] = {}
    index = int(item["index"])
    if index in results[name]:
        _reuse_fail(f"{name}[{index}]", values)
    results[name][index] = parsed


def _parse_list(name, parse, var_type, item, values, results):
    if item["index"] is not None:
        raise ValueError("Assignment of a list to a list index.")
    elements = [e for e in re.split("[ ,]", item["vals"]) if e]
    if name in results:
        _reuse_fail(name, values)
    try:
        results[name] = [parse(e) for e in elements]
    except ValueError:
        _parse_fail(name, var_type, item["vals"], values)


def parse_values(values, type_map, ignore_unknown=False):
    """Parses a hyper-parameter string into a dict of typed values.

    ``"a=1,b=[1,2],c=hi"`` with ``type_map={'a': int, 'b': int, 'c': str}`` gives
    ``{'a': 1, 'b': [1, 2], 'c': 'hi'}``; ``"arr[1]=10"`` gives ``{'arr': {1: 10}}``.

    Args:
      values: the string, items separated by commas.
      type_map: name -> the Python type to parse that name's values as (a list's element
        type for list values); bool accepts true/True/false/False and integers.
      ignore_unknown: skip names missing from `type_map` instead of failing.

    Returns:
      A dict from name to the parsed value, list of values, or {index: value} dict.

    Raises:
      ValueError: for a malformed string, an unknown name, a value that does not parse as
        its type, a name assigned twice, or a list assigned to an index.
    """
    results = {}
    pos = 0
    while pos < len(values):
        match = _ITEM_RE.match(values, pos)
        if not match:
            raise ValueError(f"Malformed hyperparameter value: {values[pos:]}")
        pos = match.end()
        item = match.groupdict()
        name = item["name"]
        if name not in type_map:
            if ignore_unknown:
                continue
            raise ValueError(f"Unknown hyperparameter type for {name}")
        var_type = type_map[name]
        parse = _bool_parser(name, values) if var_type == bool else var_type
        if item["val"] is not None:
            _parse_scalar(name, parse, var_type, item, values, results)
        elif item["vals"] is not None:
            _parse_list(name, parse, var_type, item, values, results)
        else:
            _parse_fail(name, var_type, "", values)
    return results


def _cast_if_compatible(name, param_type, value):
    """`value` as `param_type` when no information is lost (TF's rules), else ValueError."""
    fail = ValueError(f"Could not cast hparam '{name}' of type '{param_type}' from value "
                      f"{value!r}")
    # An exact type check: isinstance(True, int) holds, and a bool must not pass as an int.
    if type(value) == param_type:  # noqa: E721
        return value
    # A hyper-parameter first set to None takes anything.
    if issubclass(param_type, type(None)):
        return value
    if issubclass(param_type, (str, bytes)) and not isinstance(value, (str, bytes)):
        raise fail
    if issubclass(param_type, bool) != isinstance(value, bool):
        raise fail
    if issubclass(param_type, numbers.Integral) and not isinstance(value, numbers.Integral):
        raise fail
    if issubclass(param_type, numbers.Number) and not isinstance(value, numbers.Number):
        raise fail
    return param_type(value)


def _without_callables(value):
    if isinstance(value, dict):
        return {k: _without_callables(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, list):
        return [_without_callables(v) for v in value if not callable(v)]
    return value


class HParams:
    """Named hyper-parameters, read as attributes (``hparams.learning_rate``).

    Args:
      hparam_def: TF's ``HParamDef`` proto; not supported (must be None).
      model_structure: any object, kept for `get_model_structure`.
      **kwargs: the hyper-parameters and their initial values; each value's type (a list's
        first element's type) becomes the hyper-parameter's type.

    Raises:
      ValueError: for a reserved or empty-list hyper-parameter (see `add_hparam`).
      NotImplementedError: if `hparam_def` is given.
    """

    _HAS_DYNAMIC_ATTRIBUTES = True  # attributes are the hyper-parameters (pytype's flag)

    def __init__(self, hparam_def=None, model_structure=None, **kwargs):
        # name -> (type, is_list)
        self._hparam_types = {}
        self._model_structure = model_structure
        if hparam_def is not None:
            raise NotImplementedError("HParams(hparam_def=...) needs TF's protos, which "
                                      "sessionlib does not have; pass keyword arguments")
        for name, value in kwargs.items():
            self.add_hparam(name, value)

    def add_hparam(self, name, value):
        """Adds the hyper-parameter `name`, whose type is that of `value`.

        Args:
          name: the name; must not be an attribute of the object already.
          value: the initial value; a non-empty list or tuple makes a list hyper-parameter.

        Raises:
          ValueError: if `name` is taken (a method or an existing hyper-parameter), or
            `value` is an empty list.
        """
        # A taken name would shadow a method (or be a second definition).
        if getattr(self, name, None) is not None:
            raise ValueError(f"Hyperparameter name is reserved: {name}")
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"Multi-valued hyperparameters cannot be empty: {name}")
            self._hparam_types[name] = (type(value[0]), True)
        else:
            self._hparam_types[name] = (type(value), False)
        setattr(self, name, value)

    def set_hparam(self, name, value):
        """Sets `name` to `value`, converted to the hyper-parameter's type.

        Args:
          name: an existing hyper-parameter.
          value: the new value (a list for a list hyper-parameter).

        Raises:
          KeyError: if there is no hyper-parameter `name`.
          ValueError: for a list given to a scalar (or the reverse), or a value that cannot
            become the type without loss (a float for an int, a number for a str, ...).
        """
        param_type, is_list = self._hparam_types[name]
        if isinstance(value, list):
            if not is_list:
                raise ValueError(f"Must not pass a list for single-valued parameter: {name}")
            setattr(self, name, [_cast_if_compatible(name, param_type, v) for v in value])
        else:
            if is_list:
                raise ValueError(f"Must pass a list for multi-valued parameter: {name}.")
            setattr(self, name, _cast_if_compatible(name, param_type, value))

    def del_hparam(self, name):
        """Removes the hyper-parameter `name`; nothing happens if there is none."""
        if hasattr(self, name):
            delattr(self, name)
            del self._hparam_types[name]

    def parse(self, values):
        """Overrides hyper-parameters from a string such as ``"lr=0.1,layers=[64,32]"``.

        Args:
          values: the string (see `parse_values`).

        Returns:
          self.

        Raises:
          ValueError: for a string that does not parse, an unknown name, or a value that
            does not fit its hyper-parameter.
        """
        type_map = {name: param_type for name, (param_type, _) in self._hparam_types.items()}
        return self.override_from_dict(parse_values(values, type_map))

    def override_from_dict(self, values_dict):
        """Sets every ``name: value`` of `values_dict` with `set_hparam`; returns self.

        Raises:
          KeyError: for an unknown name.
          ValueError: for a value that does not fit.
        """
        for name, value in values_dict.items():
            self.set_hparam(name, value)
        return self

    def set_from_map(self, values_map):
        """The deprecated spelling of `override_from_dict`."""
        return self.override_from_dict(values_map)

    def set_model_structure(self, model_structure):
        self._model_structure = model_structure

    def get_model_structure(self):
        return self._model_structure

    def to_json(self, indent=None, separators=None, sort_keys=False):
        """The hyper-parameters as a JSON object (callable values left out).

        Args:
          indent, separators, sort_keys: passed to `json.dumps`.

        Returns:
          A str.
        """
        return json.dumps(_without_callables(self.values()), indent=indent,
                          separators=separators, sort_keys=sort_keys)

    def parse_json(self, values_json):
        """Overrides hyper-parameters from a JSON object string; returns self.

        Raises:
          KeyError: for an unknown name.
          ValueError: for invalid JSON or a value that does not fit.
        """
        return self.override_from_dict(json.loads(values_json))

    def values(self):
        """A dict from each hyper-parameter's name to its value."""
        return {name: getattr(self, name) for name in self._hparam_types}

    def get(self, key, default=None):
        """The value of `key`, or `default` if there is no such hyper-parameter.

        Raises:
          ValueError: if `key` exists and `default` (not None) does not fit its type.
        """
        if key not in self._hparam_types:
            return default
        if default is not None:
            param_type, is_list = self._hparam_types[key]
            type_text = f"list<{param_type}>" if is_list else str(param_type)
            message = (f"Hparam '{key}' of type '{type_text}' is incompatible with "
                       f"default={default}")
            if is_list != isinstance(default, list):
                raise ValueError(message)
            try:
                for value in (default if is_list else [default]):
                    _cast_if_compatible(key, param_type, value)
            except ValueError as e:
                raise ValueError(f"{message}. {e}") from None
        return getattr(self, key)

    def __contains__(self, key):
        return key in self._hparam_types

    def __str__(self):
        return ",".join(f"{name}={value}" for name, value in self.values().items())

    def __repr__(self):
        return f"{type(self).__name__}({sorted(self.values().items())})"

"""tf.app.run and tf.flags / tf.app.flags: absl's command-line syntax, in-process on private
`FlagValues` registries and end to end in a subprocess that uses the global ``FLAGS``."""

import os
import subprocess
import sys
import textwrap

import pytest

import sessionlib as tf

flags = tf.flags


@pytest.fixture
def registry():
    """A private registry, so that tests never touch the global FLAGS."""
    values = flags.FlagValues()
    flags.DEFINE_string("name", "default", "a string", flag_values=values)
    flags.DEFINE_integer("steps", 10, "an int", lower_bound=0, flag_values=values)
    flags.DEFINE_float("rate", 0.5, "a float", flag_values=values)
    flags.DEFINE_boolean("train", True, "a bool", flag_values=values)
    flags.DEFINE_bool("debug", False, "another bool", flag_values=values)
    flags.DEFINE_enum("mode", "fast", ["fast", "slow"], "an enum", flag_values=values)
    flags.DEFINE_list("layers", "1,2", "a list", flag_values=values)
    flags.DEFINE_multi_string("tag", None, "repeatable", flag_values=values)
    flags.DEFINE_multi_integer("seed", [1], "repeatable ints", flag_values=values)
    return values


def test_defaults(registry):
    registry.mark_as_parsed()
    assert registry.flag_values_dict() == {
        "name": "default", "steps": 10, "rate": 0.5, "train": True, "debug": False,
        "mode": "fast", "layers": ["1", "2"], "tag": None, "seed": [1]}


def test_parse_every_syntax(registry):
    rest = registry(["prog", "--name=x y", "--steps", "0x10", "-rate=2.5", "--notrain",
                     "--debug", "pos1", "--mode=slow", "--layers=a, b,c", "--tag", "t1",
                     "--tag=t2", "--seed=5", "--seed", "6", "pos2", "--", "--steps=1"])
    assert rest == ["prog", "pos1", "pos2", "--steps=1"]
    assert (registry.name, registry.steps, registry.rate, registry.train, registry.debug,
            registry.mode, registry.layers, registry.tag, registry.seed) == (
        "x y", 16, 2.5, False, True, "slow", ["a", "b", "c"], ["t1", "t2"], [5, 6])
    assert registry.is_parsed() and registry["steps"].present
    assert {name: flag.value for name, flag in registry.__flags.items()}["steps"] == 16
    registry(["prog", "--train=false", "--debug=1"])
    assert (registry.train, registry.debug) == (False, True)


def test_parse_errors(registry):
    with pytest.raises(flags.UnrecognizedFlagError, match="Unknown command line flag 'bogus'"):
        registry(["prog", "--bogus=1"])
    assert registry(["prog", "--bogus=1"], known_only=True) == ["prog", "--bogus=1"]
    for argv in (["prog", "--steps=abc"], ["prog", "--steps=-1"], ["prog", "--mode=medium"],
                 ["prog", "--train=maybe"], ["prog", "--notrain=1"], ["prog", "--steps"]):
        with pytest.raises(flags.IllegalFlagValueError):
            registry(argv)
    with pytest.raises(flags.DuplicateFlagError):
        flags.DEFINE_string("name", "", "again", flag_values=registry)
    with pytest.raises(flags.IllegalFlagValueError):
        flags.DEFINE_integer("bad_default", "x", "", flag_values=registry)
    with pytest.raises(TypeError):
        registry("prog --steps=1")


def test_required_flags_validators_and_assignment(registry):
    flags.DEFINE_string("out", None, "needed", flag_values=registry)
    flags.mark_flag_as_required("out", flag_values=registry)
    with pytest.raises(flags.ValidationError, match="--out must have a value other than None"):
        registry(["prog"])
    assert registry(["prog", "--out", "dir"]) == ["prog"] and registry.out == "dir"
    flags.register_validator("steps", lambda v: v % 2 == 0, "steps must be even",
                             flag_values=registry)
    with pytest.raises(flags.ValidationError, match="steps must be even"):
        registry(["prog", "--out=o", "--steps=3"])
    registry.steps = 4
    assert registry.steps == 4
    registry.rate = "0.25"  # assignment parses text, as absl does
    assert registry.rate == 0.25
    with pytest.raises(AttributeError):
        registry.missing = 1
    with pytest.raises(KeyError):
        flags.mark_flag_as_required("missing", flag_values=registry)
    registry.set_default("name", "other")
    registry.unparse_flags()
    registry.mark_as_parsed()
    assert registry.name == "other" and registry.steps == 10
    assert registry.get_flag_value("missing", 7) == 7


def test_define_returns_a_holder(registry):
    holder = flags.DEFINE_string("held", "h", "", flag_values=registry)
    registry(["prog", "--held=v"])
    assert holder.value == "v" and holder.name == "held" and holder.default == "h"


def test_namespaces():
    assert tf.app.flags is tf.flags and tf.flags.FLAGS is tf.app.flags.FLAGS
    assert callable(tf.app.run)


def _run_script(tmp_path, body, *args):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))] +
        [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          timeout=120, env=env)


_SCRIPT = """
    import sessionlib as tf

    flags = tf.app.flags
    flags.DEFINE_integer("steps", 3, "number of steps")
    flags.DEFINE_string("name", "net", "a name")
    flags.DEFINE_boolean("verbose", False, "talk")
    FLAGS = flags.FLAGS

    def main(argv):
        x = tf.placeholder(tf.int32, [])
        with tf.Session() as sess:
            total = sess.run(x * FLAGS.steps, {x: 2})
        print(FLAGS.name, FLAGS.steps, FLAGS.verbose, total, argv[1:])
        return 3

    if __name__ == "__main__":
        tf.app.run()
"""


def test_app_run_parses_flags_and_exits_with_mains_result(tmp_path):
    result = _run_script(tmp_path, _SCRIPT, "--steps=5", "--verbose", "extra", "--name", "m")
    assert result.returncode == 3, result.stderr
    assert result.stdout.strip() == "m 5 True 10 ['extra']"


def test_app_run_reports_a_bad_flag_and_exits_1(tmp_path):
    result = _run_script(tmp_path, _SCRIPT, "--stepz=5")
    assert result.returncode == 1
    assert "Unknown command line flag 'stepz'" in result.stderr


def test_help_prints_the_flags(tmp_path):
    result = _run_script(tmp_path, _SCRIPT, "--help")
    assert result.returncode == 0
    assert "--steps: number of steps" in result.stdout and "(default: 3)" in result.stdout


def test_flags_read_before_run_parse_sys_argv(tmp_path):
    body = """
        import sessionlib as tf
        tf.flags.DEFINE_float("lr", 0.1, "learning rate")
        print(tf.flags.FLAGS.lr)

        def main(argv):
            print("main", argv)

        tf.app.run(main=main, argv=["prog", "--lr=0.3", "pos"])
    """
    result = _run_script(tmp_path, body, "--lr=0.01")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["0.01", "main ['prog', 'pos']"]


def test_a_legacy_scripts_first_lines(tmp_path):
    body = """
        import sessionlib.compat.v1 as tf
        tf.disable_v2_behavior()
        tf.logging.set_verbosity(tf.logging.INFO)

        flags = tf.app.flags
        flags.DEFINE_string("train_dir", "", "where to write")
        flags.DEFINE_integer("max_steps", 2, "steps")
        FLAGS = flags.FLAGS

        def main(_):
            if not tf.gfile.Exists(FLAGS.train_dir):
                tf.gfile.MakeDirs(FLAGS.train_dir)
            w = tf.get_variable("w", [], initializer=tf.zeros_initializer())
            step = tf.assign_add(w, 1.0)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                for _ in range(FLAGS.max_steps):
                    value = sess.run(step)
                    tf.logging.info("step %d", value)
            with tf.gfile.GFile(tf.io.gfile.join(FLAGS.train_dir, "done"), "w") as f:
                f.write(str(value))

        if __name__ == "__main__":
            tf.app.run()
    """
    train_dir = tmp_path / "a" / "b"
    result = _run_script(tmp_path, body, f"--train_dir={train_dir}", "--max_steps=3")
    assert result.returncode == 0, result.stderr
    assert "INFO:sessionlib:step 3" in result.stderr
    assert (train_dir / "done").read_text() == "3.0"

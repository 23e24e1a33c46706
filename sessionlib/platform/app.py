"""``tf.app``: `run`, which parses the command-line flags and calls the program's ``main``."""

import sys

from sessionlib.platform import flags

__all__ = ["run", "flags"]


def run(main=None, argv=None):
    """Parses the flags in `argv` and exits with ``main(remaining arguments)``.

    Args:
      main: the function to call with the program name and the arguments that are not flags;
        default: the ``main`` of the ``__main__`` module.
      argv: the command line; default: ``sys.argv``.

    Raises:
      SystemExit: always (the exit status is main's result). A flag error prints the error
        and the usage to stderr and exits with status 1, as absl does.
    """
    argv = list(sys.argv if argv is None else argv)
    if main is None:
        main = sys.modules["__main__"].main
    try:
        remaining = flags.FLAGS(argv)
    except flags.Error as error:
        sys.stderr.write(f"FATAL Flags parsing error: {error}\n"
                         "Pass --help to see the flags.\n")
        sys.exit(1)
    sys.exit(main(remaining))

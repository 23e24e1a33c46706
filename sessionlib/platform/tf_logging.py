"""``tf.logging``: TF 1's logging functions, on the standard `logging` module.

The messages go to the ``sessionlib`` logger, the parent of every logger in this library
(``sessionlib.train.*`` and the rest), so ``tf.logging.set_verbosity(tf.logging.INFO)`` shows
the library's own INFO messages too (the monitored session's, the hooks') as it does in TF.
`get_logger` returns that logger. As in TF, a handler that writes to stderr is attached the
first time this module is used, unless the application configured logging itself (a handler on
the root logger); the default verbosity is the standard WARNING.
"""

import logging as _logging
import sys
import threading

__all__ = ["DEBUG", "INFO", "WARN", "ERROR", "FATAL", "get_logger", "set_verbosity",
           "get_verbosity", "log", "debug", "info", "warn", "warning", "error", "fatal",
           "log_every_n", "log_first_n", "log_if", "vlog", "flush", "TaskLevelStatusMessage"]

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
ERROR = _logging.ERROR
FATAL = _logging.FATAL

LOGGER_NAME = "sessionlib"

_handler_lock = threading.Lock()
_handler_checked = [False]


def get_logger():
    """The ``sessionlib`` `logging.Logger` (``tf.get_logger``), with a stderr handler unless
    the application set up logging itself."""
    logger = _logging.getLogger(LOGGER_NAME)
    if not _handler_checked[0]:
        with _handler_lock:
            if not _handler_checked[0]:
                if not logger.handlers and not _logging.getLogger().handlers:
                    handler = _logging.StreamHandler(sys.stderr)
                    handler.setFormatter(_logging.Formatter(
                        "%(levelname)s:" + LOGGER_NAME + ":%(message)s"))
                    logger.addHandler(handler)
                _handler_checked[0] = True
    return logger


def set_verbosity(verbosity):
    """Shows messages of level `verbosity` (e.g. ``tf.logging.INFO``) and above."""
    get_logger().setLevel(verbosity)


def get_verbosity():
    """The level below which messages are dropped (the logger's effective level)."""
    return get_logger().getEffectiveLevel()


def log(level, msg, *args, **kwargs):
    """Logs `msg % args` at `level`."""
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs):
    """Logs at DEBUG."""
    get_logger().debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs):
    """Logs at INFO."""
    get_logger().info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs):
    """Logs at WARNING."""
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs):
    """Logs at ERROR."""
    get_logger().error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs):
    """Logs at FATAL (CRITICAL); like TF's Python logger, it does not end the process."""
    get_logger().critical(msg, *args, **kwargs)


def vlog(level, msg, *args, **kwargs):
    """Logs at the numeric `level` (TF's verbose logging)."""
    get_logger().log(level, msg, *args, **kwargs)


def log_if(level, msg, condition, *args):
    """Logs `msg % args` at `level` when `condition` is true."""
    if condition:
        log(level, msg, *args)


# Call counts per call site (file, line), for log_every_n and log_first_n.
_site_counts = {}
_site_lock = threading.Lock()


def _count_call_site():
    frame = sys._getframe(2)  # the caller of log_every_n / log_first_n
    site = (frame.f_code.co_filename, frame.f_lineno)
    with _site_lock:
        count = _site_counts.get(site, 0)
        _site_counts[site] = count + 1
    return count


def log_every_n(level, msg, n, *args):
    """Logs on the 1st, (n+1)th, (2n+1)th ... call from the same place in the code.

    Raises:
      ValueError: for `n` below 1.
    """
    if n < 1:
        raise ValueError(f"log_every_n needs n >= 1, got {n}")
    count = _count_call_site()
    log_if(level, msg, count % n == 0, *args)


def log_first_n(level, msg, n, *args):
    """Logs only the first `n` calls from the same place in the code."""
    count = _count_call_site()
    log_if(level, msg, count < n, *args)


def flush():
    """Flushes the logger's handlers."""
    for handler in get_logger().handlers:
        handler.flush()


def TaskLevelStatusMessage(msg):  # noqa: N802 - TF's name
    """Logs a task's status line at ERROR, as TF does (so it shows at any verbosity but
    FATAL)."""
    error(msg)

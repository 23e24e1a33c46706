"""``tf.gfile`` and ``tf.io.gfile``: TF's file API on the local file system.

Paths may be plain or ``file://`` URLs. Other schemes (``gs://``, ``hdfs://``, ``s3://`` ...)
raise `tf.errors.UnimplementedError`: sessionlib has no remote file systems. Failures raise
TF's error classes with TF's choices: `NotFoundError` for a missing path,
`AlreadyExistsError` when ``overwrite=False`` meets an existing file,
`FailedPreconditionError` for a directory where a file is needed (or the reverse),
`PermissionDeniedError` for reading a file opened for writing (or the reverse).

`GFile` opens lazily, as TF's does: a missing file is reported by the first read.
"""

import collections
import errno
import glob as _glob
import os
import shutil
import stat as _stat_module

from sessionlib import errors

__all__ = ["GFile", "FastGFile", "Open", "FileStatistics", "exists", "glob", "isdir", "listdir",
           "makedirs", "mkdir", "remove", "rename", "copy", "rmtree", "stat", "walk", "join",
           "get_registered_schemes", "gfile", "io_gfile"]

_LOCAL_SCHEMES = ("file",)


def _local_path(path):
    """`path` (str, bytes or path-like) as a local file system path.

    Raises:
      UnimplementedError: for a URL of another file system.
    """
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = path.decode("utf-8")
    if not isinstance(path, str):
        raise TypeError(f"A file path must be a string, got {path!r}")
    scheme, separator, rest = path.partition("://")
    if separator and "/" not in scheme:
        if scheme not in _LOCAL_SCHEMES:
            raise errors.UnimplementedError(
                None, None, f"File system scheme '{scheme}' not implemented (file: '{path}'): "
                "sessionlib's gfile reads and writes local files only")
        return rest
    return path


def _os_error(error, path):
    """The TF error for an `OSError` raised while working on `path`."""
    message = f"{path}; {error.strerror or error}"
    if error.errno == errno.ENOENT:
        return errors.NotFoundError(None, None, message)
    if error.errno == errno.EEXIST:
        return errors.AlreadyExistsError(None, None, message)
    if error.errno in (errno.EISDIR, errno.ENOTDIR, errno.ENOTEMPTY):
        return errors.FailedPreconditionError(None, None, message)
    if error.errno in (errno.EACCES, errno.EPERM):
        return errors.PermissionDeniedError(None, None, message)
    return errors.UnknownError(None, None, message)


class GFile:
    """A file on the local file system with TF's `GFile` interface.

    Args:
      name: the path.
      mode: ``'r'``, ``'w'``, ``'a'``, ``'r+'``, ``'w+'`` or ``'a+'``, with ``'b'`` for bytes.
        Text mode reads `str`; writing accepts `str` or `bytes` in either mode.

    Raises:
      InvalidArgumentError: for another mode.
      UnimplementedError: for a path of a remote file system.
    """

    def __init__(self, name, mode="r"):
        self._path = _local_path(name)
        self._name = name
        self._mode = mode
        base = mode.replace("b", "")
        if base not in ("r", "w", "a", "r+", "w+", "a+"):
            raise errors.InvalidArgumentError(
                None, None, "mode is not 'r' or 'w' or 'a' or 'r+' or 'w+' or 'a+'")
        self._binary = "b" in mode
        self._readable = base.startswith("r") or "+" in base
        self._writable = not base == "r"
        self._file = None

    @property
    def name(self):
        """The path the file was opened with."""
        return self._name

    @property
    def mode(self):
        """The mode the file was opened with."""
        return self._mode

    def _open(self):
        if self._file is None:
            try:
                # Bytes underneath: text is decoded here, so that tell() and seek() count
                # bytes, as TF's do.
                self._file = open(self._path, self._mode.replace("b", "") + "b")
            except OSError as error:
                raise _os_error(error, self._path) from None
        return self._file

    def _check_readable(self):
        if not self._readable:
            raise errors.PermissionDeniedError(None, None, "File isn't open for reading")
        return self._open()

    def _check_writable(self):
        if not self._writable:
            raise errors.PermissionDeniedError(None, None, "File isn't open for writing")
        return self._open()

    def _result(self, data):
        return data if self._binary else data.decode("utf-8")

    def size(self):
        """The file's size in bytes.

        Raises:
          NotFoundError: if the file does not exist.
        """
        if self._file is not None:
            self._file.flush()
        return stat(self._path).length

    def write(self, file_content):
        """Writes `file_content` (`str` is written as UTF-8)."""
        handle = self._check_writable()
        if isinstance(file_content, str):
            file_content = file_content.encode("utf-8")
        handle.write(bytes(file_content))

    def read(self, n=-1):
        """Reads `n` bytes (all that is left when `n` is -1): `str` in text mode."""
        handle = self._check_readable()
        return self._result(handle.read(-1 if n is None or n < 0 else n))

    def readline(self):
        """The next line with its newline; empty at the end of the file."""
        return self._result(self._check_readable().readline())

    def readlines(self):
        """The remaining lines, each with its newline."""
        return [self._result(line) for line in self._check_readable().readlines()]

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    def seek(self, offset=None, whence=0, position=None):
        """Moves to byte `offset` from the start (``whence=0``), the current position (1) or
        the end (2). `position` is TF's deprecated name for `offset`."""
        if offset is None:
            offset = position if position is not None else 0
        self._open().seek(offset, whence)

    def tell(self):
        """The current position in bytes."""
        return self._open().tell()

    def flush(self):
        """Writes buffered data to the file."""
        if self._file is not None:
            self._file.flush()

    def close(self):
        """Closes the file; a later read or write opens it again (as TF's GFile does)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def seekable(self):
        """True: local files can seek."""
        return True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()
        return False

    def __del__(self):
        if getattr(self, "_file", None) is not None:
            self._file.close()


Open = GFile
FastGFile = GFile


FileStatistics = collections.namedtuple("FileStatistics",
                                        ["length", "mtime_nsec", "is_directory"])
FileStatistics.__doc__ = """A path's size in bytes, modification time in nanoseconds and kind."""
# TF 1's proto spelled the time field ``mtime_nsecs``; both spellings read it.
FileStatistics.mtime_nsecs = property(lambda self: self.mtime_nsec)


def exists(path):
    """Whether `path` exists."""
    return os.path.exists(_local_path(path))


def isdir(path):
    """Whether `path` is a directory."""
    return os.path.isdir(_local_path(path))


def glob(pattern):
    """The paths that match `pattern` (``*``, ``?`` and ``[...]``, as TF's), in sorted order.

    Args:
      pattern: a pattern, or a list of patterns (their matches are concatenated).
    """
    if isinstance(pattern, (list, tuple)):
        return [match for one in pattern for match in glob(one)]
    return sorted(_glob.glob(_local_path(pattern)))


def listdir(path):
    """The names in directory `path` (without '.' and '..').

    Raises:
      NotFoundError: if `path` is not a directory.
    """
    local = _local_path(path)
    if not os.path.isdir(local):
        raise errors.NotFoundError(None, None, f"Could not find directory {local}")
    return os.listdir(local)


def mkdir(path, mode=0o777):
    """Creates directory `path` (nothing happens if it exists).

    Raises:
      NotFoundError: if the parent directory does not exist.
      FailedPreconditionError: if `path` exists and is a file.
    """
    del mode
    local = _local_path(path)
    if os.path.isdir(local):
        return
    try:
        os.mkdir(local)
    except FileExistsError:
        raise errors.FailedPreconditionError(None, None, f"{local} is not a directory") from None
    except OSError as error:
        raise _os_error(error, local) from None


def makedirs(path, mode=0o777):
    """Creates directory `path` and its missing parents (nothing happens if it exists).

    Raises:
      FailedPreconditionError: if `path` or a parent is a file.
    """
    del mode
    local = _local_path(path)
    try:
        os.makedirs(local, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise errors.FailedPreconditionError(None, None, f"{local} is not a directory") from None
    except OSError as error:
        raise _os_error(error, local) from None


def remove(path):
    """Deletes the file `path`.

    Raises:
      NotFoundError: if it does not exist.
      FailedPreconditionError: if it is a directory.
    """
    local = _local_path(path)
    if os.path.isdir(local):
        raise errors.FailedPreconditionError(None, None, f"{local}; Is a directory")
    try:
        os.remove(local)
    except OSError as error:
        raise _os_error(error, local) from None


def _check_overwrite(target, overwrite):
    if not overwrite and os.path.exists(target):
        raise errors.AlreadyExistsError(None, None, "file already exists")


def rename(oldname, newname, overwrite=False):
    """Renames (moves) `oldname` to `newname`.

    Raises:
      NotFoundError: if `oldname` does not exist.
      AlreadyExistsError: if `newname` exists and `overwrite` is False.
      FailedPreconditionError: for a directory over a file, or a file over a directory.
    """
    source, target = _local_path(oldname), _local_path(newname)
    if not os.path.exists(source):
        raise errors.NotFoundError(None, None, f"{source}; No such file or directory")
    _check_overwrite(target, overwrite)
    try:
        os.replace(source, target)
    except OSError as error:
        raise _os_error(error, source) from None


def copy(oldpath, newpath, overwrite=False):
    """Copies the file `oldpath` to `newpath`.

    Raises:
      NotFoundError: if `oldpath` does not exist.
      AlreadyExistsError: if `newpath` exists and `overwrite` is False.
      FailedPreconditionError: if either is a directory.
    """
    source, target = _local_path(oldpath), _local_path(newpath)
    if not os.path.exists(source):
        raise errors.NotFoundError(None, None, f"{source}; No such file or directory")
    _check_overwrite(target, overwrite)
    if os.path.isdir(source) or os.path.isdir(target):
        raise errors.FailedPreconditionError(None, None,
                                             f"{source} -> {target}; Is a directory")
    try:
        shutil.copyfile(source, target)
    except OSError as error:
        raise _os_error(error, source) from None


def rmtree(path):
    """Deletes `path`: a directory with everything under it, or a file.

    Raises:
      NotFoundError: if it does not exist.
    """
    local = _local_path(path)
    if not os.path.lexists(local):
        raise errors.NotFoundError(None, None, f"{local} not found")
    try:
        if os.path.isdir(local) and not os.path.islink(local):
            shutil.rmtree(local)
        else:
            os.remove(local)
    except OSError as error:
        raise _os_error(error, local) from None


def stat(path):
    """The `FileStatistics` of `path` (``length``, ``mtime_nsec``/``mtime_nsecs``,
    ``is_directory``).

    Raises:
      NotFoundError: if it does not exist.
    """
    local = _local_path(path)
    try:
        result = os.stat(local)
    except OSError as error:
        raise _os_error(error, local) from None
    return FileStatistics(length=result.st_size, mtime_nsec=result.st_mtime_ns,
                          is_directory=_stat_module.S_ISDIR(result.st_mode))


def walk(top, topdown=True, onerror=None):
    """Yields ``(directory, subdirectory names, file names)`` for `top` and every directory
    under it; nothing for a missing `top`.

    Args:
      top: the directory to start from.
      topdown: yield a directory before (True) or after (False) its subdirectories.
      onerror: called with the `OSError` of a directory that cannot be listed.
    """
    local = _local_path(top)
    prefix = top[: len(top) - len(local)] if isinstance(top, str) else ""
    for directory, subdirectories, files in os.walk(local, topdown=topdown, onerror=onerror):
        yield prefix + directory, subdirectories, files


def join(path, *paths):
    """`path` joined with `paths` as `os.path.join` does (a URL keeps its scheme)."""
    return os.path.join(path, *paths)


def get_registered_schemes():
    """The URL schemes this gfile accepts: ``''`` (plain paths) and ``'file'``."""
    return ["", "file"]


# The two namespaces: TF 1's ``tf.gfile`` (CamelCase) and TF 2's ``tf.io.gfile``.
import types as _types  # noqa: E402 - the namespaces come after the functions they list

gfile = _types.ModuleType("sessionlib.gfile", "TF 1's file API (``tf.gfile``), local files.")
io_gfile = _types.ModuleType("sessionlib.io.gfile", "File API (``tf.io.gfile``), local files.")
for _name, _value in {"GFile": GFile, "Open": Open, "FastGFile": FastGFile, "Exists": exists,
                      "Glob": glob, "IsDirectory": isdir, "ListDirectory": listdir,
                      "MakeDirs": makedirs, "MkDir": mkdir, "Remove": remove, "Rename": rename,
                      "Copy": copy, "DeleteRecursively": rmtree, "Stat": stat}.items():
    setattr(gfile, _name, _value)


def _walk_v1(top, in_order=True):
    """TF 1's ``tf.gfile.Walk(top, in_order)``: `walk` with ``topdown=in_order``."""
    return walk(top, topdown=in_order)


gfile.Walk = _walk_v1
for _name in ("GFile", "exists", "glob", "isdir", "listdir", "makedirs", "mkdir", "remove",
              "rename", "copy", "rmtree", "stat", "walk", "join", "get_registered_schemes"):
    setattr(io_gfile, _name, globals()[_name])
del _name, _value

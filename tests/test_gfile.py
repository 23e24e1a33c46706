"""tf.gfile and tf.io.gfile on the local file system.

The error classes and results were checked by hand against TF 2.21's ``tf.io.gfile``.
"""

import os

import pytest

import sessionlib as tf

g = tf.io.gfile


@pytest.fixture
def root(tmp_path):
    (tmp_path / "f").write_text("hello\nworld\n")
    return str(tmp_path)


def test_read_modes_and_positions(root):
    path = os.path.join(root, "f")
    with g.GFile(path) as f:
        assert f.readline() == "hello\n" and f.tell() == 6
        assert f.read(3) == "wor" and f.size() == 12
        assert f.readlines() == ["ld\n"] and f.read() == ""
        f.seek(0)
        assert list(f) == ["hello\n", "world\n"]
        f.seek(offset=2)
        assert f.read() == "llo\nworld\n"
        f.seek(-3, 2)
        assert f.read() == "ld\n"
    with g.GFile(path, "rb") as f:
        assert f.read() == b"hello\nworld\n" and f.mode == "rb" and f.name == path
        f.seek(0)
        assert list(f) == [b"hello\n", b"world\n"]
    assert tf.gfile.FastGFile(path, "r").read() == "hello\nworld\n"
    assert tf.gfile.Open(path, "rb").read(-1) == b"hello\nworld\n"


def test_write_append_and_wrong_direction(root):
    path = os.path.join(root, "w")
    f = g.GFile(path, "w")
    with pytest.raises(tf.errors.PermissionDeniedError, match="isn't open for reading"):
        f.read()
    f.write("abc")
    f.write(b"de")
    assert f.tell() == 5
    f.flush()
    assert f.size() == 5
    f.close()
    with g.GFile(path, "a") as f:
        f.write("Z")
    assert open(path).read() == "abcdeZ"
    with pytest.raises(tf.errors.PermissionDeniedError, match="isn't open for writing"):
        g.GFile(path).write("x")
    with g.GFile(path, "wb") as f:
        f.write(b"\x00\xff")
    assert open(path, "rb").read() == b"\x00\xff"
    with g.GFile(path, "w+") as f:
        f.write("rw")
        f.seek(0)
        assert f.read() == "rw"
    with pytest.raises(tf.errors.InvalidArgumentError, match="mode"):
        g.GFile(path, "x")


def test_missing_file_is_reported_on_first_read(root):
    f = g.GFile(os.path.join(root, "nope"))  # opens lazily, as TF's does
    with pytest.raises(tf.errors.NotFoundError, match="No such file or directory"):
        f.read()


def test_queries(root):
    assert g.exists(root) and not g.exists(os.path.join(root, "nope"))
    assert g.isdir(root) and not g.isdir(os.path.join(root, "f"))
    assert not g.isdir(os.path.join(root, "nope"))
    os.makedirs(os.path.join(root, "sub"))
    open(os.path.join(root, "sub", "z"), "w").close()
    assert sorted(g.listdir(root)) == ["f", "sub"]
    assert g.glob(os.path.join(root, "*")) == [os.path.join(root, "f"),
                                               os.path.join(root, "sub")]
    assert g.glob(os.path.join(root, "nope*")) == []
    assert tf.gfile.Glob([os.path.join(root, "f"), os.path.join(root, "s*")]) == [
        os.path.join(root, "f"), os.path.join(root, "sub")]
    assert list(g.walk(root)) == [(root, ["sub"], ["f"]), (os.path.join(root, "sub"), [], ["z"])]
    assert list(tf.gfile.Walk(root, in_order=False))[0] == (os.path.join(root, "sub"), [], ["z"])
    assert list(g.walk(os.path.join(root, "nope"))) == []
    stat = g.stat(os.path.join(root, "f"))
    assert stat.length == 12 and not stat.is_directory
    assert stat.mtime_nsec == stat.mtime_nsecs == os.stat(os.path.join(root, "f")).st_mtime_ns
    assert tf.gfile.Stat(root).is_directory
    for missing in (g.stat, g.listdir):
        with pytest.raises(tf.errors.NotFoundError):
            missing(os.path.join(root, "nope"))
    with pytest.raises(tf.errors.NotFoundError, match="Could not find directory"):
        g.listdir(os.path.join(root, "f"))
    assert g.join("a", "b") == "a/b" and "file" in g.get_registered_schemes()


def test_directories(root):
    g.mkdir(os.path.join(root, "d"))
    g.mkdir(os.path.join(root, "d"))  # exists: nothing happens, as in TF 2.21
    with pytest.raises(tf.errors.NotFoundError):
        g.mkdir(os.path.join(root, "a", "b"))
    tf.gfile.MakeDirs(os.path.join(root, "a", "b", "c"))
    g.makedirs(os.path.join(root, "a", "b"))
    assert g.isdir(os.path.join(root, "a", "b", "c"))
    for make in (g.makedirs, g.mkdir):
        with pytest.raises(tf.errors.FailedPreconditionError, match="not a directory"):
            make(os.path.join(root, "f"))
    with pytest.raises(tf.errors.FailedPreconditionError):
        g.makedirs(os.path.join(root, "f", "x"))
    tf.gfile.DeleteRecursively(os.path.join(root, "a"))
    assert not g.exists(os.path.join(root, "a"))
    with pytest.raises(tf.errors.NotFoundError, match="not found"):
        g.rmtree(os.path.join(root, "a"))
    g.rmtree(os.path.join(root, "f"))  # a file is removed too, as in TF
    assert not g.exists(os.path.join(root, "f"))


def test_remove_rename_copy(root):
    f, f2 = os.path.join(root, "f"), os.path.join(root, "f2")
    with pytest.raises(tf.errors.NotFoundError):
        g.remove(os.path.join(root, "nope"))
    with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
        g.remove(root)
    g.copy(f, f2)
    assert open(f2).read() == "hello\nworld\n"
    with pytest.raises(tf.errors.AlreadyExistsError, match="file already exists"):
        tf.gfile.Copy(f, f2)
    open(f2, "w").write("x")
    g.copy(f2, f, overwrite=True)
    assert open(f).read() == "x"
    with pytest.raises(tf.errors.NotFoundError):
        g.copy(os.path.join(root, "nope"), f2)
    open(f2, "w").write("y")
    with pytest.raises(tf.errors.AlreadyExistsError):
        g.rename(f2, f)
    tf.gfile.Rename(f2, f, overwrite=True)
    assert open(f).read() == "y" and not g.exists(f2)
    with pytest.raises(tf.errors.NotFoundError):
        g.rename(os.path.join(root, "nope"), f2)
    os.makedirs(os.path.join(root, "sub"))
    with pytest.raises(tf.errors.FailedPreconditionError):
        g.rename(os.path.join(root, "sub"), f, overwrite=True)
    tf.gfile.Remove(f)
    assert not tf.gfile.Exists(f)


def test_file_urls_and_remote_schemes(root):
    url = "file://" + os.path.join(root, "f")
    assert g.exists(url) and g.GFile(url).read() == "hello\nworld\n"
    for path in ("gs://bucket/x", "hdfs://host/x", "s3://b/k"):
        with pytest.raises(tf.errors.UnimplementedError, match="not implemented"):
            g.exists(path)
    with pytest.raises(tf.errors.UnimplementedError, match="scheme 'hdfs'"):
        g.GFile("hdfs://h/x")


def test_namespaces():
    assert tf.io.gfile.GFile is tf.gfile.GFile is tf.gfile.Open
    assert set(n for n in dir(tf.gfile) if n[0].isupper()) >= {
        "Copy", "DeleteRecursively", "Exists", "FastGFile", "GFile", "Glob", "IsDirectory",
        "ListDirectory", "MakeDirs", "MkDir", "Open", "Remove", "Rename", "Stat", "Walk"}

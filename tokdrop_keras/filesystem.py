"""Files on local disk or, where TensorFlow is installed, any `tf.io.gfile`
file system (`gs://`, ...).

The export and the run folder write through these functions, so that they
work without TensorFlow (local paths) and, with it, on Cloud Storage as
TPU jobs need.
"""

import os
import shutil

from tokdrop_keras.backend import tensorflow_installed


def _gfile(path):
    """`tf.io.gfile` where TensorFlow is installed, else `None` (local)."""
    if tensorflow_installed():
        import tensorflow as tf

        return tf.io.gfile
    if "://" in str(path):
        raise ValueError(
            f"{path}: paths with a scheme (gs://, ...) are read through "
            "tf.io.gfile, and TensorFlow is not installed. Use a local "
            "path, or install tensorflow."
        )
    return None


def check_path(path):
    """Raises early if `path` cannot be reached without TensorFlow.

    Example:
    ```python
    tokdrop_keras.filesystem.check_path("/tmp/run")  # local: fine
    ```
    """
    _gfile(path)


def exists(path):
    """Whether `path` exists.

    Example:
    ```python
    assert tokdrop_keras.filesystem.exists("/")
    ```
    """
    gfile = _gfile(path)
    return gfile.exists(path) if gfile else os.path.exists(path)


def isdir(path):
    """Whether `path` is a folder.

    Example:
    ```python
    assert tokdrop_keras.filesystem.isdir("/")
    ```
    """
    gfile = _gfile(path)
    return gfile.isdir(path) if gfile else os.path.isdir(path)


def listdir(path):
    """The names in folder `path`.

    Example:
    ```python
    assert "tmp" in tokdrop_keras.filesystem.listdir("/")
    ```
    """
    gfile = _gfile(path)
    names = gfile.listdir(path) if gfile else os.listdir(path)
    return [name.rstrip("/") for name in names]


def makedirs(path):
    """Creates folder `path` and its parents, if missing.

    Example:
    ```python
    import tempfile
    path = os.path.join(tempfile.mkdtemp(), "a", "b")
    tokdrop_keras.filesystem.makedirs(path)
    assert os.path.isdir(path)
    ```
    """
    gfile = _gfile(path)
    if gfile:
        gfile.makedirs(path)
    else:
        os.makedirs(path, exist_ok=True)


def remove(path):
    """Deletes file `path`.

    Example:
    ```python
    import tempfile
    path = os.path.join(tempfile.mkdtemp(), "x")
    open(path, "w").close()
    tokdrop_keras.filesystem.remove(path)
    assert not os.path.exists(path)
    ```
    """
    gfile = _gfile(path)
    if gfile:
        gfile.remove(path)
    else:
        os.remove(path)


def rmtree(path):
    """Deletes folder `path` and everything in it.

    Example:
    ```python
    import tempfile
    path = tempfile.mkdtemp()
    tokdrop_keras.filesystem.rmtree(path)
    assert not os.path.exists(path)
    ```
    """
    gfile = _gfile(path)
    if gfile:
        gfile.rmtree(path)
    else:
        shutil.rmtree(path)


def rename(source, target, overwrite=False):
    """Moves `source` to `target` (replacing a file there if `overwrite`).

    Example:
    ```python
    import tempfile
    folder = tempfile.mkdtemp()
    source, target = os.path.join(folder, "a"), os.path.join(folder, "b")
    open(source, "w").close()
    tokdrop_keras.filesystem.rename(source, target)
    assert os.listdir(folder) == ["b"]
    ```
    """
    gfile = _gfile(target)
    if gfile:
        gfile.rename(source, target, overwrite=overwrite)
    elif not overwrite and os.path.exists(target):
        raise FileExistsError(f"{target} exists.")
    else:
        os.replace(source, target)


def copy(source, target, overwrite=False):
    """Copies file `source` to `target`.

    Example:
    ```python
    import tempfile
    folder = tempfile.mkdtemp()
    source = os.path.join(folder, "a")
    with open(source, "w") as file:
        file.write("x")
    tokdrop_keras.filesystem.copy(source, os.path.join(folder, "b"))
    assert open(os.path.join(folder, "b")).read() == "x"
    ```
    """
    gfile = _gfile(target)
    if gfile:
        gfile.copy(source, target, overwrite=overwrite)
    elif not overwrite and os.path.exists(target):
        raise FileExistsError(f"{target} exists.")
    else:
        shutil.copyfile(source, target)


def glob(pattern):
    """The sorted paths that match a glob `pattern`.

    Example:
    ```python
    import tempfile
    folder = tempfile.mkdtemp()
    for name in ("b.txt", "a.txt", "c.md"):
        open(os.path.join(folder, name), "w").close()
    names = tokdrop_keras.filesystem.glob(os.path.join(folder, "*.txt"))
    assert [os.path.basename(name) for name in names] == ["a.txt", "b.txt"]
    ```
    """
    gfile = _gfile(pattern)
    if gfile:
        return sorted(gfile.glob(pattern))
    import glob as glob_module

    return sorted(glob_module.glob(pattern))


def open_file(path, mode="r"):
    """Opens file `path` (a context manager, like `open`).

    Example:
    ```python
    import tempfile
    path = os.path.join(tempfile.mkdtemp(), "x.txt")
    with tokdrop_keras.filesystem.open_file(path, "w") as file:
        file.write("hello")
    with tokdrop_keras.filesystem.open_file(path) as file:
        assert file.read() == "hello"
    ```
    """
    gfile = _gfile(path)
    if gfile:
        return gfile.GFile(path, mode)
    return open(path, mode, encoding=None if "b" in mode else "utf-8")

import contextlib
import os
import uuid

import tokdrop_keras.filesystem as filesystem


def _check_not_a_file(path):
    if filesystem.exists(path) and not filesystem.isdir(path):
        raise ValueError(f"{path} is an existing file, not a folder.")


def check_output_directory(path, overwrite=False):
    """Raises unless `path` is absent, an empty folder, or `overwrite` is set.

    Args:
        path: local or `gs://` folder.
        overwrite: bool. Allow replacing a non-empty folder.

    Example:
    ```python
    import tempfile
    folder = tempfile.mkdtemp()
    tokdrop_keras.export.check_output_directory(folder)  # empty: fine
    open(os.path.join(folder, "keep.txt"), "w").close()
    try:
        tokdrop_keras.export.check_output_directory(folder)
        raise AssertionError("a non-empty folder was accepted")
    except ValueError as error:
        assert "not empty" in str(error)
    ```
    """
    _check_not_a_file(path)
    if filesystem.exists(path) and filesystem.listdir(path) and not overwrite:
        raise ValueError(
            f"Output folder {path} exists and is not empty; pass "
            "overwrite=True (`--overwrite`) to replace it."
        )


def check_writable_directory(path):
    """Creates folder `path` if needed and checks that files can be written
    there, so that a bad path fails before training, not after.

    Example:
    ```python
    import tempfile
    tokdrop_keras.export.check_writable_directory(
        os.path.join(tempfile.mkdtemp(), "run")
    )
    ```
    """
    _check_not_a_file(path)
    try:
        filesystem.makedirs(path)
        probe = os.path.join(path, f".write_test_{uuid.uuid4().hex[:8]}")
        with filesystem.open_file(probe, "w") as file:
            file.write("ok")
        filesystem.remove(probe)
    except Exception as error:  # tf.errors.OpError, OSError
        raise ValueError(f"{path} is not writable: {error}") from error


@contextlib.contextmanager
def atomic_directory(path, overwrite=False):
    """Yields a temporary sibling folder that replaces `path` on success.

    An interrupted or failed export leaves `path` as it was: the new content
    is moved into place only once it is complete.

    Args:
        path: local or `gs://` folder to write.
        overwrite: bool. Allow replacing an existing non-empty folder.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.export import atomic_directory
    path = os.path.join(tempfile.mkdtemp(), "exports", "bert")
    with atomic_directory(path) as tmp:
        with open(os.path.join(tmp, "weights.txt"), "w") as file:
            file.write("complete")
        assert not os.path.exists(path)  # not there until it is whole
    assert os.listdir(path) == ["weights.txt"]
    try:
        with atomic_directory(path, overwrite=True) as tmp:
            open(os.path.join(tmp, "partial.txt"), "w").close()
            raise RuntimeError("interrupted")
    except RuntimeError:
        pass
    assert os.listdir(path) == ["weights.txt"]  # left as it was
    ```
    """
    path = path.rstrip("/")
    check_output_directory(path, overwrite)
    parent = os.path.dirname(path) or "."
    filesystem.makedirs(parent)
    prefix = f".{os.path.basename(path)}.tmp-"
    # A job killed mid-export (kill -9 skips the cleanup below) leaves its
    # temporary folder behind; the next export of `path` removes it.
    for name in filesystem.listdir(parent):
        if name.rstrip("/").startswith(prefix):
            filesystem.rmtree(os.path.join(parent, name.rstrip("/")))
    temporary = os.path.join(parent, f"{prefix}{uuid.uuid4().hex[:8]}")
    filesystem.makedirs(temporary)
    try:
        yield temporary
    except BaseException:
        filesystem.rmtree(temporary)
        raise
    if filesystem.exists(path):
        filesystem.rmtree(path)
    filesystem.rename(temporary, path)

import contextlib
import os
import uuid

import tensorflow as tf


def check_output_directory(path, overwrite=False):
    """Raises unless `path` is absent, empty, or `overwrite` is set.

    Args:
        path: local or `gs://` folder.
        overwrite: bool. Allow replacing a non-empty folder.
    """
    if tf.io.gfile.exists(path) and tf.io.gfile.listdir(path) and not overwrite:
        raise ValueError(
            f"Output folder {path} exists and is not empty; pass "
            "overwrite=True (`--overwrite`) to replace it."
        )


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
    with atomic_directory("exports/bert") as tmp:
        backbone.save_to_preset(tmp)
    ```
    """
    path = path.rstrip("/")
    check_output_directory(path, overwrite)
    parent = os.path.dirname(path) or "."
    tf.io.gfile.makedirs(parent)
    temporary = os.path.join(
        parent, f".{os.path.basename(path)}.tmp-{uuid.uuid4().hex[:8]}"
    )
    tf.io.gfile.makedirs(temporary)
    try:
        yield temporary
    except BaseException:
        tf.io.gfile.rmtree(temporary)
        raise
    if tf.io.gfile.exists(path):
        tf.io.gfile.rmtree(path)
    tf.io.gfile.rename(temporary, path)

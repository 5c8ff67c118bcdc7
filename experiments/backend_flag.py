"""`--backend NAME`: sets `KERAS_BACKEND` before anything imports keras.

Keras picks its backend once, on import, so a script reads this one flag
from the command line before importing tokdrop_keras; the flag stays in
`argv` for the config (`PretrainConfig.backend`) to check.
"""

import os


def use_backend_flag(argv):
    """Sets `KERAS_BACKEND` from `--backend NAME` / `--backend=NAME` in argv."""
    for index, arg in enumerate(argv):
        if arg == "--backend" and index + 1 < len(argv):
            name = argv[index + 1]
        elif arg.startswith("--backend="):
            name = arg.split("=", 1)[1]
        else:
            continue
        if name != "auto":
            os.environ["KERAS_BACKEND"] = name

"""`--backend NAME`: sets `KERAS_BACKEND` before anything imports keras.

Keras picks its backend once, on import, so a script reads this one flag
from the command line before importing tokdrop_keras; the flag stays in
`argv` for the config (`PretrainConfig.backend`) to check.
"""

import os
import sys

BACKENDS = ("auto", "tensorflow", "jax")


def use_backend_flag(argv):
    """Sets `KERAS_BACKEND` from `--backend NAME` / `--backend=NAME` in argv;
    an unsupported name exits 2 naming the supported ones."""
    for index, arg in enumerate(argv):
        if arg == "--backend" and index + 1 < len(argv):
            name = argv[index + 1]
        elif arg.startswith("--backend="):
            name = arg.split("=", 1)[1]
        else:
            continue
        if name not in BACKENDS:
            script = os.path.basename(argv[0]) if argv else "script"
            print(
                f"{script}: error: --backend {name!r} is not supported; "
                f"choose one of {', '.join(BACKENDS)} (PyTorch: see README).",
                file=sys.stderr,
            )
            sys.exit(2)
        if name != "auto":
            os.environ["KERAS_BACKEND"] = name

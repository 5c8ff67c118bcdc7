"""The package's layering and what `import tokdrop_keras` does."""

import ast
import os
import subprocess
import sys

import tokdrop_keras

PACKAGE = os.path.dirname(tokdrop_keras.__file__)

# Each sub-package, and the sub-packages its modules may import.
ALLOWED = {
    "layers": {"backend", "layers", "models"},  # models.layout only
    "metrics": set(),
    "models": {
        "backend", "filesystem", "inputs", "layers", "metrics", "models",
        "optimizers", "special_tokens",
    },
    # models.architectures: which tokenizer, inputs and packing each has.
    "data": {"data", "filesystem", "inputs", "models", "special_tokens"},
    "export": {"backend", "export", "filesystem", "inputs", "models", "special_tokens"},
}


def imported_modules(path):
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_layering():
    for package, allowed in ALLOWED.items():
        folder = os.path.join(PACKAGE, package)
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".py"):
                continue
            for module in imported_modules(os.path.join(folder, name)):
                parts = module.split(".")
                if parts[0] != "tokdrop_keras":
                    continue
                assert len(parts) > 1, f"{package}/{name} imports the package root"
                assert parts[1] in allowed, f"{package}/{name} imports {module}"


def test_import_picks_the_backend_and_loads_only_the_model_stack():
    environ = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
    code = (
        "import os, sys, tokdrop_keras; "
        "print(os.environ['KERAS_BACKEND'], os.environ.get('XLA_FLAGS'), "
        "sorted(m for m in sys.modules if m.startswith('tokdrop_keras.') "
        "and m.split('.')[1] in ('training', 'data', 'export')), "
        "'tensorflow_datasets' in sys.modules)"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    assert process.stdout.strip().splitlines()[-1] == (
        "tensorflow --xla_cpu_use_fusion_emitters=false [] False"
    )


def test_import_honours_keras_backend_jax_without_the_tensorflow_flag():
    environ = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    code = (
        "import os, keras, tokdrop_keras; "
        "print(keras.backend.backend(), os.environ.get('XLA_FLAGS'))"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**environ, "KERAS_BACKEND": "jax"}, timeout=300,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    assert process.stdout.strip().splitlines()[-1] == "jax None"


def test_an_unsupported_backend_is_named_on_import():
    process = subprocess.run(
        [sys.executable, "-c", "import tokdrop_keras"], capture_output=True,
        text=True, env={**os.environ, "KERAS_BACKEND": "numpy"}, timeout=300,
    )
    assert process.returncode == 1
    assert "backend='numpy'" in process.stderr
    assert "Set KERAS_BACKEND=jax or KERAS_BACKEND=tensorflow" in process.stderr


def test_lazy_names_load_on_first_use():
    # In a fresh process: `import tokdrop_keras` leaves the training modules
    # unloaded; each lazy name loads its own module and is defined there.
    code = (
        "import sys, tokdrop_keras\n"
        "lazy = tokdrop_keras._LAZY\n"
        "assert not any(m in sys.modules for m in lazy.values()), "
        "[m for m in lazy.values() if m in sys.modules]\n"
        "for name, module in lazy.items():\n"
        "    assert getattr(tokdrop_keras, name).__module__ == module, name\n"
        "    assert module in sys.modules\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300,
    )
    assert process.returncode == 0, process.stderr[-2000:]

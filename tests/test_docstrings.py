"""Every public class and function documents a runnable example, and every
fenced `python` example in the package's docstrings runs.

Examples build what they use; `np`, `os`, `tf`, `keras`, `keras_hub` and
`tokdrop_keras` are imported for them, as keras-hub's examples assume.
"""

import importlib
import inspect
import os
import pkgutil
import re

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

import tokdrop_keras

EXAMPLE = re.compile(r"```python\n(.*?)```", re.S)


def docstring(value):
    """The object's own docstring (not one inherited from Keras)."""
    return inspect.cleandoc(value.__doc__ or "")


def public_objects():
    """`(qualified name, object)` of the public classes, functions and
    methods defined in the package (not re-exported from elsewhere)."""
    found = []
    for info in pkgutil.walk_packages(tokdrop_keras.__path__, "tokdrop_keras."):
        module = importlib.import_module(info.name)
        found.append((info.name, module))
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != info.name:
                continue
            if inspect.isfunction(value) or inspect.isclass(value):
                found.append((f"{info.name}.{name}", value))
            if inspect.isclass(value):
                for method_name, method in vars(value).items():
                    if not method_name.startswith("_") and inspect.isfunction(method):
                        found.append((f"{info.name}.{name}.{method_name}", method))
    return found


OBJECTS = public_objects()
EXAMPLES = [
    pytest.param(code, id=f"{name}[{i}]")
    for name, value in OBJECTS
    for i, code in enumerate(EXAMPLE.findall(docstring(value)))
]
def test_every_example_is_collected():
    # Each public object's fenced examples, each one a test case.
    expected = sum(
        len(EXAMPLE.findall(docstring(value))) for _, value in OBJECTS
    )
    assert expected == len(EXAMPLES)
    for name, value in OBJECTS:
        if inspect.isclass(value) or (
            inspect.isfunction(value) and value.__qualname__ == value.__name__
        ):
            assert any(
                param.id.startswith(f"{name}[") for param in EXAMPLES
            ), f"{name} has no collected example"


@pytest.mark.parametrize("code", EXAMPLES)
def test_example_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write here
    namespace = {
        "np": np, "os": os, "tf": tf, "keras": keras, "keras_hub": keras_hub,
        "tokdrop_keras": tokdrop_keras,
    }
    exec(compile(code, "<docstring example>", "exec"), namespace)


def undocumented():
    missing = []
    for name, value in OBJECTS:
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        if value.__qualname__ != value.__name__:  # a method
            continue
        if not EXAMPLE.search(docstring(value)):
            missing.append(name)
    return missing


def test_every_public_class_and_function_has_an_example():
    assert undocumented() == []

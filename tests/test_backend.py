import os

import pytest

import tokdrop_keras  # noqa: F401  (edits XLA_FLAGS on import)
from tokdrop_keras.backend import FUSION_EMITTERS_FLAG
from tokdrop_keras.backend import installed_tensorflow_version
from tokdrop_keras.backend import use_fast_xla_cpu_dropout

MEASURED = "2.21.0"


def test_turns_fusion_emitters_off_in_an_empty_environment():
    environ = {}
    use_fast_xla_cpu_dropout(environ, tensorflow_version=MEASURED)
    assert environ == {"XLA_FLAGS": "--xla_cpu_use_fusion_emitters=false"}


def test_keeps_the_users_other_flags():
    environ = {"XLA_FLAGS": "--xla_dump_to=/tmp/hlo", "PATH": "/bin"}
    use_fast_xla_cpu_dropout(environ, tensorflow_version=MEASURED)
    assert environ == {
        "XLA_FLAGS": "--xla_dump_to=/tmp/hlo "
        "--xla_cpu_use_fusion_emitters=false",
        "PATH": "/bin",
    }


def test_an_explicit_choice_wins():
    environ = {"XLA_FLAGS": "--xla_cpu_use_fusion_emitters=true"}
    use_fast_xla_cpu_dropout(environ, tensorflow_version=MEASURED)
    assert environ == {"XLA_FLAGS": "--xla_cpu_use_fusion_emitters=true"}
    use_fast_xla_cpu_dropout(environ, tensorflow_version=MEASURED)
    assert environ["XLA_FLAGS"].count(FUSION_EMITTERS_FLAG) == 1


@pytest.mark.parametrize("version", ["2.20.0", "2.22.0", "3.0.0", None])
def test_other_tensorflow_versions_are_left_alone(version):
    # XLA aborts on a flag its build does not know.
    environ = {"XLA_FLAGS": "--xla_dump_to=/tmp/hlo"}
    use_fast_xla_cpu_dropout(environ, tensorflow_version=version or "")
    assert environ == {"XLA_FLAGS": "--xla_dump_to=/tmp/hlo"}


def test_importing_the_package_sets_the_flag():
    assert installed_tensorflow_version() == MEASURED
    assert FUSION_EMITTERS_FLAG in os.environ["XLA_FLAGS"]

"""Command-line flags made from a config dataclass, so that the scripts in
`experiments/` hold no setting of their own: argparse → config → one call."""

import argparse
import dataclasses
import json
import sys
import typing

import tokdrop_keras.filesystem as filesystem

from tokdrop_keras.training.callbacks import NonFiniteLossError

CONFIG_FLAG = "--config"


def _flag_type(field):
    kind = field.type
    if typing.get_origin(kind) is typing.Union:  # Optional[X]
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    return kind


def build_parser(config_class, description=None):
    """An `argparse` parser with one flag per field of `config_class`.

    Booleans get `--name` / `--noname`; `--config FILE` reads a config JSON
    (a `to_dict`, or a `summary.json` with a `config` entry) whose values
    become the defaults, so that flags given with it override it.

    Example:
    ```python
    from tokdrop_keras.training.flags import build_parser
    parser = build_parser(tokdrop_keras.PretrainConfig)
    args = parser.parse_args(["--size", "mini", "--notoken_drop"])
    assert (args.size, args.token_drop) == ("mini", False)
    ```
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        CONFIG_FLAG, help="a config JSON (or a run's summary.json) to start from"
    )
    groups = {}
    for field in dataclasses.fields(config_class):
        meta = field.metadata
        group_name = meta.get("group")
        if group_name and group_name not in groups:
            groups[group_name] = parser.add_argument_group(group_name)
        group = groups.get(group_name, parser)
        kind = _flag_type(field)
        help_text = meta.get("help", "")
        if kind is bool:
            group.add_argument(
                f"--{field.name}", dest=field.name, action="store_true",
                default=field.default, help=help_text,
            )
            group.add_argument(
                f"--no{field.name}", dest=field.name, action="store_false",
                help=argparse.SUPPRESS,
            )
            continue
        choices = meta.get("choices")
        if choices:
            help_text = f"{help_text} (one of {', '.join(choices)})"
        group.add_argument(
            f"--{field.name}", type=kind, default=field.default,
            help=f"{help_text} [default: {field.default}]",
        )
    return parser


def read_config_file(config_class, path):
    """The config a JSON file holds (a `to_dict`, or a `summary.json`).

    Example:
    ```python
    import tempfile
    from tokdrop_keras.training import write_json
    from tokdrop_keras.training.flags import read_config_file
    folder = tempfile.mkdtemp()
    config = tokdrop_keras.PretrainConfig(size="mini", steps=40)
    write_json(os.path.join(folder, "config.json"), config.to_dict())
    write_json(os.path.join(folder, "summary.json"),
               {"config": config.to_dict(), "steps": 40})
    for name in ("config.json", "summary.json"):
        path = os.path.join(folder, name)
        assert read_config_file(tokdrop_keras.PretrainConfig, path) == config
    ```
    """
    with filesystem.open_file(path) as file:
        values = json.load(file)
    if "config" in values and isinstance(values["config"], dict):
        values = values["config"]
    return config_class.from_dict(values)


def parse_config(config_class, argv=None, description=None):
    """The config the command line `argv` describes.

    Example:
    ```python
    from tokdrop_keras.training.flags import parse_config
    config = parse_config(tokdrop_keras.PretrainConfig, ["--steps", "40"])
    assert config == tokdrop_keras.PretrainConfig(steps=40)
    ```
    """
    parser = build_parser(config_class, description)
    known, _ = parser.parse_known_args(argv)
    if known.config:
        base = read_config_file(config_class, known.config)
        parser.set_defaults(**dataclasses.asdict(base))
    values = vars(parser.parse_args(argv))
    values.pop("config")
    return config_class(**values)


def run_script(function, config_class, argv=None, description=None):
    """Parses `argv` into a config and runs `function(config)`, for a
    script; returns `(config, result)`. Bad input (a `ValueError`, from the
    flags, a config file or the run's own checks) exits with
    `<script>: error: <message>` and status 2, as argparse does.

    Example:
    ```python
    from tokdrop_keras.training.flags import run_script
    config, steps = run_script(
        lambda config: config.steps, tokdrop_keras.PretrainConfig, ["--steps", "3"]
    )
    assert steps == 3
    ```
    """
    try:
        config = parse_config(config_class, argv, description)
        return config, function(config)
    except (ValueError, NonFiniteLossError) as error:
        print(f"{sys.argv[0]}: error: {error}", file=sys.stderr)
        sys.exit(2)

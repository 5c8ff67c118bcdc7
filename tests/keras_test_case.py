"""A keras-hub-style test harness: the checks every layer and model gets.

`KerasTestCase.run_layer_test` runs a layer eagerly, symbolically (Keras
tensors, through `compute_output_spec`) and under `mixed_bfloat16`, and
round-trips its config; `run_serialization_test` checks `get_config` /
`from_config` and `serialize_keras_object`; `run_model_saving_test` saves
a model as `.keras` and checks the reload predicts the same.
`seed_snapshot` / `restore_seeds` replay a layer's random draws.
"""

import os

import keras
import numpy as np
from keras import tree


def _as_tuple(inputs):
    return inputs if isinstance(inputs, tuple) else (inputs,)


def _symbolic(value):
    value = np.asarray(value)
    return keras.KerasTensor(value.shape, dtype=str(value.dtype))


def _seed_states(layer):
    return [
        generator.state
        for sublayer in layer._flatten_layers(include_self=True)
        for generator in sublayer._seed_generators
    ]


def seed_snapshot(layer):
    """The states of every seed generator under `layer` (dropout's...)."""
    return [np.asarray(state.value) for state in _seed_states(layer)]


def restore_seeds(layer, snapshot):
    """Puts `layer`'s seed generators back to `seed_snapshot`: the next
    call draws what the call after the snapshot drew."""
    for state, value in zip(_seed_states(layer), snapshot):
        state.assign(value)


class KerasTestCase:
    """Mix into a pytest test class (`class TestX(KerasTestCase)`)."""

    def run_serialization_test(self, instance):
        """`get_config` round trips, directly and through
        `keras.saving.serialize_keras_object`."""
        config = instance.get_config()
        revived = type(instance).from_config(config)
        assert revived.get_config() == config
        serialized = keras.saving.serialize_keras_object(instance)
        deserialized = keras.saving.deserialize_keras_object(serialized)
        assert type(deserialized) is type(instance)
        assert deserialized.get_config() == config
        return revived

    def run_layer_test(
        self,
        layer_cls,
        init_kwargs,
        inputs,
        call_kwargs=None,
        expected_output_shape=None,
        run_precision_test=True,
    ):
        """Calls `layer_cls(**init_kwargs)` on `inputs` (one array or a tuple
        of the call's positional arguments) eagerly and symbolically;
        checks the output shapes agree (and equal `expected_output_shape`,
        a shape or a nest of shapes), the config round trips, and, with
        `run_precision_test`, that the layer runs under `mixed_bfloat16`
        with bfloat16 float outputs. Returns the eager output."""
        call_kwargs = call_kwargs or {}
        inputs = _as_tuple(inputs)
        layer = layer_cls(**init_kwargs)
        output = layer(*inputs, **call_kwargs)
        shapes = tree.map_structure(lambda x: tuple(x.shape), output)
        if expected_output_shape is not None:
            assert shapes == expected_output_shape, shapes
        symbolic = layer_cls(**init_kwargs)(
            *[tree.map_structure(_symbolic, x) for x in inputs], **call_kwargs
        )
        assert tree.map_structure(lambda x: tuple(x.shape), symbolic) == shapes
        self.run_serialization_test(layer)
        if run_precision_test:
            self.run_precision_test(
                layer_cls, init_kwargs, inputs, call_kwargs, output
            )
        return output

    def run_precision_test(
        self, layer_cls, init_kwargs, inputs, call_kwargs, expected
    ):
        """Under `mixed_bfloat16`, float outputs that follow the compute dtype
        are bfloat16, and every output equals the float32 `expected` to
        bfloat16's precision: no NaN, infinities exactly where it has them."""
        layer = layer_cls(**{**init_kwargs, "dtype": "mixed_bfloat16"})
        float_inputs = any(
            np.issubdtype(np.asarray(x).dtype, np.floating)
            for x in tree.flatten(inputs)
        )
        outputs = tree.flatten(layer(*inputs, **call_kwargs))
        for output, reference in zip(outputs, tree.flatten(expected)):
            dtype = keras.backend.standardize_dtype(output.dtype)
            if float_inputs and "float" in dtype and dtype != "float32":
                assert dtype == "bfloat16", dtype
            values = keras.ops.convert_to_numpy(keras.ops.cast(output, "float32"))
            reference = keras.ops.convert_to_numpy(
                keras.ops.cast(reference, "float32")
            )
            assert not np.isnan(values).any(), "NaN under mixed_bfloat16"
            # assert_allclose also requires equal infinities at equal places.
            np.testing.assert_allclose(values, reference, rtol=1e-2, atol=1e-2)

    def run_model_saving_test(self, model, inputs, tmp_path):
        """Saves `model` as `.keras`; the reload has the same config and
        predictions. Returns the reloaded model."""
        path = os.path.join(tmp_path, "model.keras")
        expected = model.predict(inputs, verbose=0)
        model.save(path)
        loaded = keras.saving.load_model(path)
        assert type(loaded) is type(model)
        assert loaded.get_config() == model.get_config()
        np.testing.assert_allclose(
            loaded.predict(inputs, verbose=0), expected, atol=1e-6
        )
        return loaded

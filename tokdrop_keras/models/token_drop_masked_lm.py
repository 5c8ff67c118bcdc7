import keras
import keras_hub
from keras import ops

from tokdrop_keras.backend import first_batch
from tokdrop_keras.backend import default_jit_compile
from tokdrop_keras.backend import sum_over_replicas
from tokdrop_keras.inputs import MASK_POSITIONS
from tokdrop_keras.layers.importance_tracker import ImportanceTracker
from tokdrop_keras.metrics.kept_mask_fraction import KeptMaskFraction
from tokdrop_keras.metrics.nonfinite_losses import NonFiniteLosses
from tokdrop_keras.models.architectures import architecture_of
from tokdrop_keras.models.batch_checks import check_masked_lm_batch
from tokdrop_keras.models.architectures import check_backbone_class
from tokdrop_keras.models.checkpoints import load_masked_lm
from tokdrop_keras.models.layout import check_keep
from tokdrop_keras.models.encoder_stack import EncoderStack
from tokdrop_keras.models.token_drop_backbone import TokenDropBackbone
from tokdrop_keras.models.token_drop_options import MASKED_LM
from tokdrop_keras.models.token_drop_options import backbone_options
from tokdrop_keras.models.token_drop_options import check_token_drop_options
from tokdrop_keras.models.token_drop_options import options_of
from tokdrop_keras.models.keep_schedule import TrainStepSwitch
from tokdrop_keras.models.numerics import KERAS_HUB_MLM_HEAD
from tokdrop_keras.models.numerics import check_activation
from tokdrop_keras.models.numerics import encoder_activation_name
from tokdrop_keras.models.numerics import encoder_epsilon
from tokdrop_keras.models.numerics import set_encoder_numerics
from tokdrop_keras.optimizers import bert_adamw


RANDOM_STATE_PREFIX = "random_state_"
# In training, `call` returns the logits and, per prediction, whether the
# token-dropped layers kept its position (for `kept_mask_fraction`).
LOGITS = "logits"
NUMERICS_ARGUMENTS = (
    "encoder_activation",
    "encoder_layer_norm_epsilon",
    "mlm_head_activation",
    "mlm_head_layer_norm_epsilon",
)
KEPT_MASK = "kept_mask"
# On consistency steps, also the full-length model's logits.
FULL_LOGITS = "full_logits"


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class TokenDropMaskedLM(keras.Model):
    """Masked-LM pretraining with token dropping, for a keras-hub encoder.

    Inputs and targets are those of the backbone's keras-hub masked LM (for
    BERT, `keras_hub.models.BertMaskedLM`), so the output of its
    `*MaskedLMPreprocessor` feeds it unchanged: for BERT
    `x = {"token_ids", "segment_ids", "padding_mask", "mask_positions"}`,
    `y = mask_ids`, `sample_weight = mask_weights`. The output is the logits
    `[batch, num_predictions, vocabulary_size]` of keras-hub's `MaskedLMHead`,
    tied to the token embedding.

    Tokens are dropped in training only: evaluation and prediction run the
    full-length backbone, the model users fine-tune. The loss is the weighted
    mean of the per-prediction cross-entropies. In training, those same
    per-prediction losses update the importance table inside the compiled
    train step (`compute_loss`), on every backend; `call(..., training=True)`
    returns `{"logits", "kept_mask"}`, the second for the
    `kept_mask_fraction` metric.
    `token_drop=False` is the baseline: the plain backbone, through the same
    loss, table update and train step.

    `.backbone` is the plain keras-hub backbone holding the trained weights
    (the table is not part of it); `.importance_tracker` is the table, saved
    with this model.

    Args:
        backbone: a keras-hub backbone (`keras_hub.models.BertBackbone`).
        token_drop: bool. `False` trains the full-length baseline.
        keep_schedule: `None` (keep `keep_fraction` throughout), or a
            `tokdrop_keras.models.KeepSchedule` (or its `get_config()`
            dict): the kept fraction per training step. `fit` follows it
            from the optimizer's step; each distinct fraction is one
            compiled train step, traced the first time it is reached.
        consistency_weight: float >= 0. With a positive weight, every
            `consistency_every`-th step (ScTD, Zhong et al., 2023) also
            runs the full-length model on the same batch and adds its
            masked-LM loss plus `consistency_weight` times the KL
            divergence from the full model's predicted distribution (a
            fixed target, no gradient through it) to the token-drop
            model's, at the masked positions. Defaults to `0.0` (off).
        consistency_every: int >= 1. Steps between consistency steps
            (counted from 0 by the optimizer's step). Defaults to `1`.
        encoder_activation, encoder_layer_norm_epsilon, mlm_head_activation,
        mlm_head_layer_norm_epsilon: the numerics a checkpoint fixes
            (default: the backbone's and the architecture's).
        **kwargs: `TokenDropBackbone`'s options (`keep_fraction`,
            `keep_tokens`, `first_dropped_layer`, `selection`,
            `random_fraction`, `initial_importance`, `beta`,
            `always_keep_ids`, `always_drop_ids`, `seed`,
            `attention_dropout`; the baseline uses only the table's and
            `attention_dropout`, and checks the others), and `keras.Model`'s
            (`name`, ...).

    Example:
    ```python
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
        f"w{i}" for i in range(40)
    ]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary)
    preprocessor = keras_hub.models.BertMaskedLMPreprocessor(
        tokenizer, sequence_length=16, mask_selection_length=4
    )
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=4,
        num_heads=2, hidden_dim=16, intermediate_dim=32,
        max_sequence_length=16,
    )
    model = tokdrop_keras.TokenDropMaskedLM(
        backbone, **tokdrop_keras.special_token_ids(tokenizer)
    )
    model.compile()
    text = tf.data.Dataset.from_tensor_slices(["w1 w2 w3 w4 w5 w6"] * 16)
    model.fit(text.batch(8).map(preprocessor), epochs=1, verbose=0)
    assert model.backbone is backbone  # a plain BertBackbone, to fine-tune
    ```
    """

    def __init__(
        self,
        backbone,
        token_drop=True,
        keep_schedule=None,
        consistency_weight=0.0,
        consistency_every=1,
        encoder_activation=None,
        encoder_layer_norm_epsilon=None,
        mlm_head_activation=None,
        mlm_head_layer_norm_epsilon=None,
        **kwargs,
    ):
        # `TokenDropBackbone`'s options, apart from `keras.Model`'s kwargs.
        options = backbone_options(kwargs)
        architecture = architecture_of(backbone)
        # Both arms: a baseline's config is one its token-drop twin accepts.
        keep_schedule, options["keep_fraction"] = check_token_drop_options(
            len(architecture.transformer_layers(backbone)),
            token_drop=token_drop,
            keep_schedule=keep_schedule,
            consistency_weight=consistency_weight,
            consistency_every=consistency_every,
            **options,
        )
        super().__init__(**kwargs)
        set_encoder_numerics(
            backbone, encoder_activation, encoder_layer_norm_epsilon
        )

        # === Layers ===
        self.backbone = backbone
        if token_drop:
            self.token_drop_backbone = TokenDropBackbone(
                backbone, name="token_drop_backbone", **options
            )
            self.importance_tracker = self.token_drop_backbone.importance_tracker
            encoder_stack = self.token_drop_backbone.encoder_stack
        else:
            self.token_drop_backbone = None
            self.importance_tracker = ImportanceTracker(
                vocabulary_size=backbone.vocabulary_size,
                initial_importance=options["initial_importance"],
                beta=options["beta"],
                always_keep_ids=options["always_keep_ids"],
                always_drop_ids=options["always_drop_ids"],
                name="importance_tracker",
            )
            encoder_stack = EncoderStack(backbone, options["attention_dropout"])
        # The full-length encoder of the baseline, evaluation and ScTD's
        # full model: the backbone's layers on the same attention path.
        self.encoder_stack = encoder_stack
        self.masked_lm_head = architecture.masked_lm_head(
            backbone, mlm_head_activation, mlm_head_layer_norm_epsilon
        )
        self.kept_mask_fraction = KeptMaskFraction()
        self.nonfinite_losses = NonFiniteLosses()
        # Reported only where there are consistency steps.
        self.consistency_loss = (
            keras.metrics.Mean(name="consistency_loss")
            if token_drop and consistency_weight > 0
            else None
        )
        self._architecture = architecture
        # The traced train functions, one per (kept fraction, consistency
        # step) (`use_train_step`); which one the next trace builds.
        self._train_functions = {}
        self._consistency_step = False

        # === Config ===
        self.token_drop = token_drop
        for name, value in options.items():
            setattr(self, name, value)
        self.random_fraction = float(self.random_fraction)
        self.initial_importance = self.importance_tracker.initial_importance
        self.beta = self.importance_tracker.beta
        self.always_keep_ids = list(self.importance_tracker.always_keep_ids)
        self.always_drop_ids = list(self.importance_tracker.always_drop_ids)
        self.encoder_activation = encoder_activation_name(backbone)
        self.encoder_layer_norm_epsilon = encoder_epsilon(backbone)
        self.mlm_head_activation = check_activation(
            mlm_head_activation or architecture.mlm_head_activation
        )
        self.mlm_head_layer_norm_epsilon = float(
            self.masked_lm_head.layer_norm_epsilon
        )
        self.keep_schedule = keep_schedule
        self.consistency_weight = float(consistency_weight)
        self.consistency_every = int(consistency_every)
        self.built = True

    @classmethod
    def from_preset(cls, preset, token_drop=True, **kwargs):
        """A `TokenDropMaskedLM` from a checkpoint: encoder AND MLM head.

        `preset` is one of:
        - a Hugging Face transformers checkpoint folder (`config.json`,
          `model.safetensors`, tokenizer files) of a `BertForMaskedLM`,
          `RobertaForMaskedLM`, `XLMRobertaForMaskedLM` or
          `DistilBertForMaskedLM` (see
          `tokdrop_keras.models.transformers_checkpoint`): sizes,
          activations, LayerNorm epsilons and position offset come from
          its config.json, so the full model's logits are transformers'; a
          missing pooler (BERT) or head (a base model) starts fresh, said
          in one line;
        - a keras-hub masked-LM preset folder, or an export folder
          (`tokdrop_keras.export.export_pretrained`) holding one in
          `preset/`: our exports carry their numerics
          (`numerics.NUMERICS_FILE`); other keras-hub presets get
          keras-hub's head (gelu, 1e-5). A backbone-only preset gets a
          fresh head, with a warning.

        Special-token ids come from the checkpoint's tokenizer. The
        importance table starts at `initial_importance`
        (`tokdrop_keras.export.restore_importance_table` reads an export's).

        Args:
            preset: the folder (local or `gs://`).
            token_drop: bool, as in the constructor.
            **kwargs: the constructor's other arguments (`keep_fraction`,
                `seed`, ...).

        Example:
        ```python
        import tempfile
        tokenizer = tokdrop_keras.data.load_tokenizer("roberta")
        backbone = tokdrop_keras.models.backbone_for_size(
            "nano", vocabulary_size=tokenizer.vocabulary_size(),
            max_sequence_length=16, num_layers=2, architecture="roberta",
        )
        model = tokdrop_keras.TokenDropMaskedLM(
            backbone, **tokdrop_keras.special_token_ids(tokenizer)
        )
        export_dir = os.path.join(tempfile.mkdtemp(), "export")
        tokdrop_keras.export.export_pretrained(
            model, tokenizer, export_dir, sequence_length=16,
            saved_model=False,
        )
        again = tokdrop_keras.TokenDropMaskedLM.from_preset(export_dir)
        x = {
            "token_ids": np.array([[0, 8191, 500, 2]], "int32"),
            "padding_mask": np.ones((1, 4), "int32"),
            "mask_positions": np.array([[1]], "int32"),
        }
        np.testing.assert_allclose(again(x), model(x), atol=1e-6)
        assert again.always_drop_ids == [1]  # <pad>
        ```
        """
        model, _ = cls.from_preset_with_tokenizer(preset, token_drop, **kwargs)
        return model

    @classmethod
    def from_preset_with_tokenizer(cls, preset, token_drop=True, **kwargs):
        """`from_preset`, and the checkpoint's keras-hub tokenizer:
        `(model, tokenizer)`."""
        return load_masked_lm(preset, cls, token_drop, **kwargs)

    @property
    def input_keys(self):
        """The inputs this model takes: the backbone's and `mask_positions`."""
        return tuple(self._architecture.input_keys) + (MASK_POSITIONS,)

    def call(self, inputs, training=None):
        missing = [name for name in self.input_keys if name not in inputs]
        if missing:
            raise ValueError(
                f"Missing inputs {missing}; expected {list(self.input_keys)}, "
                "the output of the backbone's keras-hub "
                "`*MaskedLMPreprocessor`."
            )
        backbone_inputs = {
            name: inputs[name] for name in self._architecture.input_keys
        }
        mask_positions = ops.cast(inputs[MASK_POSITIONS], "int32")
        if self.token_drop and training:
            outputs, kept_positions = self.token_drop_backbone(
                backbone_inputs, training=training, return_kept_positions=True
            )
            kept_mask = ops.any(
                mask_positions[:, :, None] == kept_positions[:, None, :],
                axis=-1,
            )
            if self._consistency_step:
                full_outputs = self.encoder_stack(
                    backbone_inputs, training=training
                )
                full_logits = self.masked_lm_head(
                    self._architecture.sequence_output(full_outputs),
                    mask_positions,
                )
        else:
            outputs = self.encoder_stack(backbone_inputs, training=training)
            kept_mask = ops.ones_like(mask_positions, dtype="bool")
        logits = self.masked_lm_head(
            self._architecture.sequence_output(outputs), mask_positions
        )
        if not training:
            return logits
        # What the train step's loss and metrics need besides the logits.
        outputs = {LOGITS: logits, KEPT_MASK: kept_mask}
        if self.token_drop and self._consistency_step:
            outputs[FULL_LOGITS] = full_logits
        return outputs

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} needs targets `y = mask_ids` (and "
                "`sample_weight = mask_weights`)."
            )
        logits = y_pred[LOGITS] if isinstance(y_pred, dict) else y_pred
        # Float32 under mixed precision: the table averages these losses.
        losses = keras.losses.sparse_categorical_crossentropy(
            y, ops.cast(logits, "float32"), from_logits=True
        )
        if sample_weight is None:
            sample_weight = ops.ones_like(losses)
        weights = ops.cast(sample_weight, "float32")
        # Normalise by the weight of the global batch: summed over replicas,
        # the gradients are those of the global weighted mean.
        total_weight = sum_over_replicas(ops.sum(weights))

        def weighted_mean(values):
            total = ops.sum(ops.where(weights > 0, values * weights, 0.0))
            return ops.divide_no_nan(total, total_weight)

        loss = weighted_mean(losses)
        if isinstance(y_pred, dict) and FULL_LOGITS in y_pred:
            # One log-softmax of the full model's logits: its MLM loss and
            # the KL target.
            full_log_probs = ops.log_softmax(
                ops.cast(y_pred[FULL_LOGITS], "float32"), axis=-1
            )
            full_losses = -ops.take_along_axis(
                full_log_probs, ops.expand_dims(ops.cast(y, "int32"), -1), axis=-1
            )[..., 0]
            loss = loss + weighted_mean(full_losses)
            target = ops.stop_gradient(full_log_probs)
            divergence = weighted_mean(
                ops.sum(
                    ops.exp(target)
                    * (target - ops.log_softmax(ops.cast(logits, "float32"), axis=-1)),
                    axis=-1,
                )
            )
            loss = loss + self.consistency_weight * divergence
            if training and self.consistency_loss is not None:
                self.consistency_loss.update_state(divergence)
        if training:
            # A plain state change inside the train step: every backend's
            # trainer carries the table's new value out of the step.
            with keras.name_scope("importance_update"):
                self.importance_tracker.update(y, losses, weights)
            self.nonfinite_losses.update_state(losses, weights)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, dict):
            weights = (
                ops.ones_like(y, dtype="float32")
                if sample_weight is None
                else sample_weight
            )
            self.kept_mask_fraction.update_state(y_pred[KEPT_MASK], weights)
            y_pred = y_pred[LOGITS]
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def use_train_step(self, keep_fraction=None, consistency_step=None):
        """Switches the train step `fit` runs next to another kept fraction
        and/or consistency setting.

        Each combination is traced once (the number of kept tokens is a
        static shape) and kept: switching back costs nothing. `fit` calls
        this between steps to follow `keep_schedule` and
        `consistency_every`; call it yourself to change the fraction by
        hand.

        Args:
            keep_fraction: float in `(0, 1]`, or `None` to keep the
                current one.
            consistency_step: bool, or `None` to keep the current one.

        Example:
        ```python
        backbone = tokdrop_keras.models.backbone_for_size(
            "nano", vocabulary_size=50, max_sequence_length=16, num_layers=2
        )
        model = tokdrop_keras.TokenDropMaskedLM(backbone)
        model.use_train_step(keep_fraction=0.25)
        x = {
            "token_ids": np.random.randint(5, 50, size=(2, 16)),
            "segment_ids": np.zeros((2, 16), "int32"),
            "padding_mask": np.ones((2, 16), "int32"),
            "mask_positions": np.array([[1], [2]]),
        }
        _, kept = model.token_drop_backbone(x, training=True,
                                            return_kept_positions=True)
        assert kept.shape == (2, 4)
        ```
        """
        if not self.token_drop:
            raise ValueError(
                "The baseline (`token_drop=False`) keeps every token; it has "
                "no kept fraction or consistency step to switch."
            )
        old = self._train_step_key()
        if self.train_function is not None:
            self._train_functions[old] = self.train_function
        if keep_fraction is not None:
            check_keep(keep_fraction)
            token_drop = self.token_drop_backbone.token_drop
            token_drop.keep_tokens, token_drop.keep_fraction = None, keep_fraction
            self.token_drop_backbone.keep_tokens = self.keep_tokens = None
            self.token_drop_backbone.keep_fraction = keep_fraction
            self.keep_fraction = keep_fraction
        if consistency_step is not None:
            self._consistency_step = bool(consistency_step) and (
                self.consistency_weight > 0
            )
        new = self._train_step_key()
        if new != old:
            self.train_function = self._train_functions.get(new)
            if self.train_function is None and self.compiled:
                self.make_train_function()

    def _train_step_key(self):
        token_drop = self.token_drop_backbone.token_drop
        return (token_drop.keep_tokens, token_drop.keep_fraction, self._consistency_step)

    def train_step_at(self, step):
        """`(keep_fraction, consistency_step)` of training step `step`:
        what `keep_schedule` and `consistency_every` ask for there."""
        fraction = (
            self.keep_schedule.fraction_at(step)
            if self.keep_schedule is not None
            else None
        )
        consistency = (
            self.consistency_weight > 0 and step % self.consistency_every == 0
        )
        return fraction, consistency

    def compile(
        self,
        optimizer="auto",
        weighted_metrics="auto",
        jit_compile="auto",
        **kwargs,
    ):
        """Configures the model for pretraining.

        The loss is built in (`compute_loss`); passing `loss` is an error.

        Args:
            optimizer: `"auto"` or a Keras optimizer. `"auto"` is
                `bert_adamw()`: AdamW at a constant 1e-4, weight decay 0.01
                except on LayerNorm parameters and biases.
            weighted_metrics: `"auto"` or a list; `"auto"` reports masked-LM
                `accuracy`.
            jit_compile: bool or `"auto"`. `"auto"` is
                `tokdrop_keras.backend.default_jit_compile()`: always on
                JAX; on TensorFlow, XLA on GPU and TPU but not on CPU.
            **kwargs: other arguments of `keras.Model.compile`.
        """
        if kwargs.get("loss") is not None:
            raise ValueError(
                f"{type(self).__name__} computes its own masked-LM loss; do "
                f"not pass `loss`. Received: loss={kwargs['loss']!r}"
            )
        if optimizer == "auto":
            optimizer = bert_adamw()
        if weighted_metrics == "auto":
            weighted_metrics = [
                keras.metrics.SparseCategoricalAccuracy(name="accuracy")
            ]
        if jit_compile == "auto":
            jit_compile = default_jit_compile()
        self._train_functions = {}
        super().compile(
            optimizer=optimizer,
            weighted_metrics=weighted_metrics,
            jit_compile=jit_compile,
            **kwargs,
        )

    def fit(
        self, x=None, y=None, sample_weight=None, check_first_batch=True,
        **kwargs,
    ):
        """`keras.Model.fit`, after checking the first batch eagerly.

        A `tf.data.Dataset`'s first element (or in-memory arrays, whole) is
        checked by `tokdrop_keras.models.batch_checks.check_masked_lm_batch`
        before anything is compiled: ids outside the vocabulary, mask
        positions outside the sequence, sequences longer than the
        backbone's `max_sequence_length`, a batch with nothing to predict
        fail here with the field and value named, not inside the train
        step. Other inputs (generators, `PyDataset`) are not checked.
        Reading a dataset's first element starts an iteration of it, which
        moves a reshuffling `shuffle` on to its next order;
        `check_first_batch=False` skips the check (`tokdrop_keras.pretrain`
        checks a twin of its dataset instead, so its data order is the one
        `fit` alone would read).

        Example:
        ```python
        backbone = tokdrop_keras.models.backbone_for_size(
            "nano", vocabulary_size=20, max_sequence_length=8, num_layers=2
        )
        model = tokdrop_keras.TokenDropMaskedLM(backbone)
        model.compile()
        x = {
            "token_ids": np.full((2, 8), 25),  # outside the 20-id vocabulary
            "segment_ids": np.zeros((2, 8), "int32"),
            "padding_mask": np.ones((2, 8), "int32"),
            "mask_positions": np.array([[1], [2]]),
        }
        try:
            model.fit(x, np.array([[5], [6]]), verbose=0)
            raise AssertionError("trained on ids outside the vocabulary")
        except ValueError as error:
            assert "`token_ids` holds 25, outside [0, 20)" in str(error)
        ```
        """
        if check_first_batch:
            self.check_first_batch(x, y, sample_weight)
        if self.token_drop and (
            self.keep_schedule is not None or self.consistency_weight > 0
        ):
            callbacks = list(kwargs.pop("callbacks", None) or [])
            kwargs["callbacks"] = [TrainStepSwitch(), *callbacks]
        return super().fit(x, y, sample_weight=sample_weight, **kwargs)

    def check_first_batch(self, x, y=None, sample_weight=None):
        """Checks the first batch of `fit`'s inputs (see `fit`)."""
        first = first_batch(x, y, sample_weight)
        if first is not None:
            check_masked_lm_batch(
                *first,
                input_keys=self.input_keys,
                vocabulary_size=self.backbone.vocabulary_size,
                max_sequence_length=self.backbone.max_sequence_length,
            )

    def compile_from_config(self, config):
        # Keras skips an overridden compile() when loading a `.keras` file;
        # the saved config holds the arguments compile() resolved.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def random_state_variables(self):
        """The states of the model's random generators (dropout's, the
        tie-breaking's), in a fixed order."""
        return [
            variable
            for variable in self.variables
            if variable.path.endswith("seed_generator_state")
        ]

    def save_own_variables(self, store):
        # Keras saves no random-generator state; without it a resumed run
        # (a checkpoint, a `.keras` file) would not continue bit for bit.
        super().save_own_variables(store)
        for index, variable in enumerate(self.random_state_variables):
            store[f"{RANDOM_STATE_PREFIX}{index}"] = variable

    def load_own_variables(self, store):
        keys = [k for k in store.keys() if k.startswith(RANDOM_STATE_PREFIX)]
        variables = self.random_state_variables
        if keys and len(keys) != len(variables):
            raise ValueError(
                f"The saved model holds {len(keys)} random-generator states; "
                f"this model has {len(variables)}."
            )
        for index, variable in enumerate(variables if keys else ()):
            variable.assign(store[f"{RANDOM_STATE_PREFIX}{index}"])
        # Files saved before the states were saved hold none: they load.
        super().load_own_variables(
            {k: store[k] for k in store.keys() if k not in keys}
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backbone": keras.layers.serialize(self.backbone),
                **options_of(self, MASKED_LM),
                **self.numerics,
                "keep_schedule": (
                    None
                    if self.keep_schedule is None
                    else self.keep_schedule.get_config()
                ),
            }
        )
        return config

    @property
    def numerics(self):
        """The activations and LayerNorm epsilons of the encoder and the
        MLM head (constructor arguments, resolved)."""
        return {name: getattr(self, name) for name in NUMERICS_ARGUMENTS}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        # Saved before the head's numbers were arguments: keras-hub's head.
        for name, value in KERAS_HUB_MLM_HEAD.items():
            config.setdefault(name, value)
        config["backbone"] = keras.layers.deserialize(config["backbone"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class TokenDropBertMaskedLM(TokenDropMaskedLM):
    """`TokenDropMaskedLM` for a `keras_hub.models.BertBackbone` only.

    Kept for code and `.keras` files from before `TokenDropMaskedLM`; takes
    the same arguments.

    Example:
    ```python
    backbone = tokdrop_keras.models.backbone_for_size(
        "nano", vocabulary_size=50, max_sequence_length=16
    )
    model = tokdrop_keras.TokenDropBertMaskedLM(backbone, token_drop=False)
    assert model.token_drop_backbone is None
    ```
    """

    def __init__(self, backbone, **kwargs):
        check_backbone_class(backbone, keras_hub.models.BertBackbone)
        super().__init__(backbone, **kwargs)

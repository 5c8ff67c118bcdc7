import keras
from keras import ops

from tokdrop_keras.layers.kept_rows import gather_rows
from tokdrop_keras.layers.top_k_selection import select_positions
from tokdrop_keras.layers.top_k_selection import sortable_keys
from tokdrop_keras.layers.top_k_selection import top_k_mask

DEFAULT_KEEP_FRACTION = 0.5
# How the kept tokens are chosen (`TokenDrop`'s `selection`).
IMPORTANCE = "importance"
RANDOM = "random"
MIXED = "mixed"
SELECTIONS = (IMPORTANCE, RANDOM, MIXED)
DEFAULT_RANDOM_FRACTION = 0.5


def kept_token_count(
    sequence_length, keep_fraction=DEFAULT_KEEP_FRACTION, keep_tokens=None
):
    """The number of tokens kept from each sequence of `sequence_length`.

    Args:
        sequence_length: int.
        keep_fraction: float in `(0, 1]`, used when `keep_tokens` is `None`.
        keep_tokens: int or `None`; at most `sequence_length`.

    Example:
    ```python
    from tokdrop_keras.layers.token_drop import kept_token_count
    assert kept_token_count(128) == 64
    assert kept_token_count(7, keep_fraction=0.3) == 2
    assert kept_token_count(128, keep_tokens=100) == 100
    ```
    """
    if keep_tokens is None:
        return max(1, round(keep_fraction * sequence_length))
    if keep_tokens > sequence_length:
        raise ValueError(
            f"`keep_tokens={keep_tokens}` exceeds the sequence length "
            f"{sequence_length}."
        )
    return keep_tokens


def check_keep(keep_fraction=DEFAULT_KEEP_FRACTION, keep_tokens=None):
    """Raises unless `keep_fraction` / `keep_tokens` are valid.

    Example:
    ```python
    from tokdrop_keras.layers.token_drop import check_keep
    check_keep(keep_fraction=0.25)
    ```
    """
    if keep_tokens is not None and (
        isinstance(keep_tokens, bool)
        or not isinstance(keep_tokens, int)
        or keep_tokens <= 0
    ):
        raise ValueError(
            "`keep_tokens` must be a positive int. Received: "
            f"keep_tokens={keep_tokens!r}"
        )
    if keep_tokens is None and not (
        isinstance(keep_fraction, (int, float)) and 0.0 < keep_fraction <= 1.0
    ):
        raise ValueError(
            "`keep_fraction` must be in (0, 1]. Received: "
            f"keep_fraction={keep_fraction!r}"
        )


def check_selection(selection=IMPORTANCE, random_fraction=DEFAULT_RANDOM_FRACTION):
    """Raises unless `selection` / `random_fraction` are valid.

    Example:
    ```python
    from tokdrop_keras.layers.token_drop import check_selection
    check_selection("mixed", random_fraction=0.25)
    try:
        check_selection("topk")
        raise AssertionError("accepted an unknown selection")
    except ValueError as error:
        assert "'importance', 'random', 'mixed'" in str(error)
    ```
    """
    if selection not in SELECTIONS:
        raise ValueError(
            f"Unknown `selection` {selection!r}; choose one of "
            f"{', '.join(repr(name) for name in SELECTIONS)}."
        )
    if isinstance(random_fraction, bool) or not (
        isinstance(random_fraction, (int, float)) and 0.0 <= random_fraction <= 1.0
    ):
        raise ValueError(
            "`random_fraction` must be in [0, 1]. Received: "
            f"random_fraction={random_fraction!r}"
        )


def random_kept_count(keep_tokens, random_fraction):
    """How many of `keep_tokens` a `"mixed"` selection picks at random.

    Example:
    ```python
    from tokdrop_keras.layers.token_drop import random_kept_count
    assert random_kept_count(64, 0.25) == 16
    ```
    """
    return int(round(random_fraction * keep_tokens))


@keras.saving.register_keras_serializable(package="tokdrop_keras")
class TokenDrop(keras.layers.Layer):
    """Keeps each sequence's `keep_tokens` highest-scoring tokens.

    Selection is a top-k over the scores, found by a bitwise search for each
    row's k-th largest score rather than by sorting (XLA:CPU slows down
    train steps that contain a sort); the kept positions are returned in
    sequence order. In training, tokens tied at the k-th
    score are chosen at random (seeded), so that early training, when every
    ordinary token still has the initial importance, keeps a random subset
    rather than each sequence's first positions. At inference, ties go to
    the earlier position, deterministically.

    `selection` says how the kept tokens are chosen among the ordinary
    ones (special tokens, scored `+inf`, are always kept and padding,
    scored `-inf`, always dropped, whatever the selection):
    - `"importance"`: the highest scores (the paper's method);
    - `"random"`: a fresh uniform random subset per sequence and step
      (the paper's random-dropping ablation; random-LTD's choice), also
      at inference;
    - `"mixed"`: the highest scores for all but `random_fraction` of the
      kept slots, the rest uniformly at random among the others (the
      reference's `SelectTopK(top_k, random_k)`).

    Args:
        keep_tokens: int. How many tokens of each sequence to keep.
        keep_fraction: float in `(0, 1]`. Alternative to `keep_tokens`:
            keep `max(1, round(keep_fraction * seq))` tokens, resolved from
            the (static) sequence length of each call
            (`kept_token_count`).
        selection: `"importance"` (default), `"random"` or `"mixed"`.
        random_fraction: float in `[0, 1]`. The share of the kept tokens
            a `"mixed"` selection picks at random (rounded); unused by the
            others. Defaults to `0.5`.
        seed: int. Seed of the tie-breaking (and random selection) noise.
        **kwargs: other keyword arguments of `keras.layers.Layer`.

    Call arguments:
        hidden_states: float tensor `[batch, seq, hidden]`.
        scores: float tensor `[batch, seq]`, higher is kept first (e.g. the
            output of `ImportanceTracker`).
        padding_mask: tensor `[batch, seq]`, nonzero for real tokens.
        training: bool. Whether to break ties at random.

    Returns:
        A tuple `(kept_hidden_states [batch, keep_tokens, hidden],
        kept_padding_mask [batch, keep_tokens] (bool),
        kept_positions [batch, keep_tokens] (int32))`.

    Example:
    ```python
    hidden = np.arange(12, dtype="float32").reshape(1, 6, 2)
    scores = np.array([[9.0, 1.0, 5.0, 3.0, 7.0, 0.0]])
    kept, kept_mask, positions = tokdrop_keras.TokenDrop(keep_tokens=3)(
        hidden, scores, padding_mask=np.ones((1, 6), "int32")
    )
    # positions == [[0, 2, 4]], kept == hidden[:, [0, 2, 4]]
    ```
    """

    def __init__(
        self,
        keep_tokens=None,
        keep_fraction=None,
        selection=IMPORTANCE,
        random_fraction=DEFAULT_RANDOM_FRACTION,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (keep_tokens is None) == (keep_fraction is None):
            raise ValueError(
                "Pass exactly one of `keep_tokens` and `keep_fraction`. "
                f"Received: keep_tokens={keep_tokens!r}, "
                f"keep_fraction={keep_fraction!r}"
            )
        check_keep(keep_fraction, keep_tokens)
        check_selection(selection, random_fraction)
        self.keep_tokens = keep_tokens
        self.keep_fraction = keep_fraction
        self.selection = selection
        self.random_fraction = float(random_fraction)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, hidden_states, scores, padding_mask, training=None):
        batch_seq = tuple(hidden_states.shape[:2])
        if tuple(scores.shape) != batch_seq or tuple(
            padding_mask.shape
        ) != batch_seq:
            raise ValueError(
                "`scores` and `padding_mask` must be `[batch, seq]` of "
                f"`hidden_states` {tuple(hidden_states.shape)}. Received: "
                f"scores.shape={tuple(scores.shape)}, "
                f"padding_mask.shape={tuple(padding_mask.shape)}"
            )
        sequence_length = batch_seq[1]
        if sequence_length is None:
            raise ValueError(
                "TokenDrop needs a static sequence length (XLA needs a static "
                "number of kept tokens); pad inputs to a fixed length."
            )
        keep_tokens = self.kept_length(sequence_length)
        tie_keys = None
        if training or self.selection != IMPORTANCE:
            tie_keys = keras.random.randint(
                ops.shape(scores),
                minval=0,
                maxval=2**31 - 1,
                dtype="int32",
                seed=self.seed_generator,
            )
        positions = select_positions(
            sortable_keys(self.selection_scores(scores, keep_tokens, tie_keys)),
            keep_tokens,
            tie_keys=tie_keys,
        )
        kept_hidden_states = gather_rows(hidden_states, positions)
        kept_padding_mask = ops.take_along_axis(
            ops.cast(padding_mask, "bool"), positions, axis=1
        )
        return kept_hidden_states, kept_padding_mask, positions

    def selection_scores(self, scores, keep_tokens, tie_keys):
        """The scores whose top `keep_tokens` (ties to the larger
        `tie_keys`) are this selection's kept tokens."""
        if self.selection == IMPORTANCE:
            return scores
        # Every ordinary token ties at 0: the random tie keys choose.
        ordinary = ops.isfinite(scores)
        random_scores = ops.where(ordinary, 0.0, scores)
        if self.selection == RANDOM:
            return random_scores
        by_importance = keep_tokens - random_kept_count(
            keep_tokens, self.random_fraction
        )
        if by_importance == 0:
            return random_scores
        # The top of the table (special tokens first) claims its slots...
        claimed = ops.logical_and(
            top_k_mask(sortable_keys(scores), by_importance, tie_keys=tie_keys),
            ops.logical_not(ops.isneginf(scores)),
        )
        # ... and the rest of the kept tokens are random among the others.
        return ops.where(claimed, float("inf"), random_scores)

    def kept_length(self, sequence_length):
        """The number of tokens kept from sequences of `sequence_length`."""
        return kept_token_count(
            sequence_length, self.keep_fraction, self.keep_tokens
        )

    def compute_output_spec(
        self, hidden_states, scores, padding_mask, training=None
    ):
        batch_size, sequence_length, hidden_dim = hidden_states.shape
        kept_length = (
            None if sequence_length is None else self.kept_length(sequence_length)
        )
        kept_shape = (batch_size, kept_length)
        return (
            keras.KerasTensor(
                kept_shape + (hidden_dim,), dtype=hidden_states.dtype
            ),
            keras.KerasTensor(kept_shape, dtype="bool"),
            keras.KerasTensor(kept_shape, dtype="int32"),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "keep_tokens": self.keep_tokens,
                "keep_fraction": self.keep_fraction,
                "selection": self.selection,
                "random_fraction": self.random_fraction,
                "seed": self.seed,
            }
        )
        return config

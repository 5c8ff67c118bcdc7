"""Which layers see which tokens: the token-dropping layout of an encoder.

For `L` layers and `first_dropped_layer = f` (default `L // 2`):

- layers `0 .. f-2` run on all tokens;
- layer `f-1` is the boundary: the kept tokens (queries) attend to all
  tokens (keys and values);
- layers `f .. L-2` run on the kept tokens only;
- the dropped tokens' states are put back in place, and the last layer runs
  on all tokens again.

Each sequence of `S` tokens keeps `kept_token_count(S, ...)` tokens: `keep_tokens`
when given, else `max(1, round(keep_fraction * S))` — the one rounding rule
(`tokdrop_keras.layers.token_drop.kept_token_count`) that the layers, the
FLOP model and the benchmarks share.
"""

import dataclasses

from tokdrop_keras.layers.token_drop import DEFAULT_KEEP_FRACTION
from tokdrop_keras.layers.token_drop import check_keep
from tokdrop_keras.layers.token_drop import kept_token_count


def resolve_first_dropped_layer(num_layers, first_dropped_layer=None):
    """The first layer that sees only kept tokens (default `L // 2`).

    Example:
    ```python
    from tokdrop_keras.models.layout import resolve_first_dropped_layer
    assert resolve_first_dropped_layer(12) == 6
    ```
    """
    if num_layers < 2:
        raise ValueError(
            "Token dropping needs a backbone of at least 2 layers (a "
            "boundary layer and a last full layer). Received: "
            f"num_layers={num_layers}"
        )
    if first_dropped_layer is None:
        return num_layers // 2
    if not 1 <= first_dropped_layer <= num_layers - 1:
        raise ValueError(
            f"`first_dropped_layer` must be in [1, {num_layers - 1}] for "
            f"a backbone of {num_layers} layers. Received: "
            f"first_dropped_layer={first_dropped_layer}"
        )
    return first_dropped_layer


@dataclasses.dataclass(frozen=True)
class TokenDropLayout:
    """Which layers of an encoder see which tokens.

    Build it with `token_drop_layout`.

    Attributes:
        num_layers: int.
        sequence_length: int.
        kept_tokens: int. Tokens kept per sequence.
        first_dropped_layer: int. The first layer on kept tokens only.

    Example:
    ```python
    layout = tokdrop_keras.models.token_drop_layout(12, sequence_length=128)
    assert layout.boundary_layer == 5
    assert layout.tokens_seen(0) == (128, 128)   # all tokens
    assert layout.tokens_seen(5) == (64, 128)    # kept queries, all keys
    assert layout.tokens_seen(6) == (64, 64)     # kept tokens only
    assert layout.tokens_seen(11) == (128, 128)  # the last layer: all again
    ```
    """

    num_layers: int
    sequence_length: int
    kept_tokens: int
    first_dropped_layer: int

    @property
    def boundary_layer(self):
        return self.first_dropped_layer - 1

    @property
    def full_layers(self):
        """Layers before the boundary, on all tokens."""
        return tuple(range(self.boundary_layer))

    @property
    def kept_layers(self):
        """Layers on the kept tokens only."""
        return tuple(range(self.first_dropped_layer, self.num_layers - 1))

    @property
    def last_layer(self):
        return self.num_layers - 1

    def tokens_seen(self, layer):
        """`(queries, keys)` of one layer's attention, per sequence."""
        if not 0 <= layer < self.num_layers:
            raise ValueError(
                f"Layer {layer} is outside [0, {self.num_layers})."
            )
        full, kept = self.sequence_length, self.kept_tokens
        if layer == self.boundary_layer:
            return kept, full
        if layer in self.kept_layers:
            return kept, kept
        return full, full


def token_drop_layout(
    num_layers,
    sequence_length,
    keep_fraction=DEFAULT_KEEP_FRACTION,
    keep_tokens=None,
    first_dropped_layer=None,
):
    """The `TokenDropLayout` of an encoder, with its arguments checked.

    Args:
        num_layers: int, at least 2.
        sequence_length: int.
        keep_fraction: float in `(0, 1]`. Share of each sequence kept.
        keep_tokens: int. Tokens kept per sequence; overrides
            `keep_fraction`.
        first_dropped_layer: int in `[1, num_layers - 1]`; default
            `num_layers // 2`.

    Example:
    ```python
    layout = tokdrop_keras.models.token_drop_layout(4, 16, keep_tokens=5)
    assert (layout.kept_tokens, layout.kept_layers) == (5, (2,))
    ```
    """
    check_keep(keep_fraction, keep_tokens)
    return TokenDropLayout(
        num_layers=num_layers,
        sequence_length=sequence_length,
        kept_tokens=kept_token_count(sequence_length, keep_fraction, keep_tokens),
        first_dropped_layer=resolve_first_dropped_layer(
            num_layers, first_dropped_layer
        ),
    )

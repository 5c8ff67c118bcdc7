"""Token-dropping layers: the importance table, drop, restore."""

from tokdrop_keras.layers.importance_tracker import ImportanceTracker
from tokdrop_keras.layers.token_drop import TokenDrop
from tokdrop_keras.layers.token_drop import kept_token_count
from tokdrop_keras.layers.token_restore import TokenRestore

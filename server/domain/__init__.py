"""The pure hall engine: catalogue, state, commands, events, decide and apply (no I/O)."""

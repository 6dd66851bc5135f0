"""knowledge layer (see DESIGN.md)."""

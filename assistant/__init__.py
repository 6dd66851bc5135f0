"""assistant layer (see DESIGN.md)."""

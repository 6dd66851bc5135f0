"""Policy documents and their searchable chunks (the logic lives in `knowledge/`)."""

"""Where a phone menu session stands: its state between screens, and how it ended."""

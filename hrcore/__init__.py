"""The HR core: models, services and rules. Knows nothing of HTTP, LLMs or channels."""

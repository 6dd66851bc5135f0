"""The offline chat model: the embedded default and the test double of the assistant."""

from assistant.offline.model import OfflineChatModel

__all__ = ["OfflineChatModel"]

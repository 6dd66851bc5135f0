"""The assistant: a LangChain agent over the typed tools, with memory and confirmations.

Only this package imports LangChain; everything below it (tools, knowledge, hrcore)
stays model-agnostic. See `assistant.service.Assistant` for the entry point.
"""

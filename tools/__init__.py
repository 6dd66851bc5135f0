"""Typed HR tools: one declaration per action, shared by the assistant, REST and USSD."""

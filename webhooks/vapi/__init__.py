"""Vapi: the voice agent's server URL (assistant requests, tool calls, call status and reports)."""

"""Scenarios: YAML rules that script error codes, report states, replies, clicks and faults."""

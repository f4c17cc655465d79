"""Helpers for testing against emay-mock: a capturing callback receiver, and the pytest plugin's parts."""

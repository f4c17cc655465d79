"""The UI tests' browser fixtures, defined in test_ui.py, shared with the other UI test files."""

from tests.e2e.test_ui import browser, ui_for

__all__ = ["browser", "ui_for"]

"""Helpers shared by tests (servers the tests control); fixtures stay in conftest."""

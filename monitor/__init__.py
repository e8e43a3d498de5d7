"""newsmon: everything that is not fetching (config, archive, extraction, rules, delivery)."""

__version__ = "0.1.0"

"""Synergia: a terminal chat client for AI models."""

# Kept as a literal so `synergia --version` answers without importing anything else.
__version__ = "0.1.0"

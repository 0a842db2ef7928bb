"""Endless Lo-Fi Radio generation worker."""

__version__ = "0.1.0"

"""govchain: a permissioned blockchain platform for a city's digital governance."""

__all__ = ["__version__"]

__version__ = "0.1.0"

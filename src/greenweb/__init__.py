"""greenweb: a low-footprint, JavaScript-free bulletin and climate question board."""

__version__ = "0.1.0"

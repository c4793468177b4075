"""RANKL Atlas: what published studies report about circulating RANKL and osteoprotegerin."""

__version__ = "0.1.0"

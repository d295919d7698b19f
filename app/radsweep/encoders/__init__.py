"""Frozen image backbones and text encoders: registry, weight loading, preprocessing."""

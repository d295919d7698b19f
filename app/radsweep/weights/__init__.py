"""The weights catalogue: one YAML file that says where every backbone's weights live on disk.

Kept free of imports so the encoder registry can read the catalogue without a cycle.
"""

"""Imaging: image I/O, CT -> radiograph reconstruction (DRR) and report section parsing."""

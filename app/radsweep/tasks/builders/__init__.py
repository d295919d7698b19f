"""Builders that turn credentialed datasets (MIMIC-CXR, MIMIC-IV, INSPECT) into task manifests."""

"""The weights catalogue (one YAML file that says where every encoder's weights live on disk),
release links and resumable downloads.

Below the encoders: nothing here imports ``radsweep.encoders``, so the encoder registry reads the
catalogue without a cycle; what needs encoders (listing, adding, fetching weights) lives in
``radsweep.encoders.inventory``.
"""

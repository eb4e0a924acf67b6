"""The indicator panel: codebook, loaders of raw public data, validation, coverage."""

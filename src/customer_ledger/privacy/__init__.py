"""Personal data: which fields hold it, its per-customer keys and field encryption, and
masking for display."""

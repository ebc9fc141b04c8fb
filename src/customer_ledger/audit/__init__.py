"""The audit: each customer's hash chain of sealed events, verifying it, and checkpoints
of the whole log an auditor keeps elsewhere."""

"""Read models rebuilt from the events: profile, timeline, status."""

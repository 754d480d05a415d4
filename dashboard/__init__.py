"""The dashboard surface (not built yet: see README, Status)."""

"""The kiosk surface (not built yet: see README, Status)."""

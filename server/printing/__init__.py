"""Ticket printing: the paper ticket's layout (`layout`), printers as devices (`devices`), print
jobs as a state machine without I/O (`jobs`) and its asyncio driver (`driver`).

Nothing is imported here: the print agent on a kiosk PC needs `devices` and `layout` only.
"""

"""The hall's realtime feed without I/O: what each screen receives (`render`) and the state
machine that decides what to send to whom and whom to drop (`machine`). The asyncio driver that
owns the sockets is `server/api/realtime.py`."""

"""kvbench's reference connectors (docs/connector-api.md): naive.py and async_pinned.py."""

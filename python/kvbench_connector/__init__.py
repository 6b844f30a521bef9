"""kvbench connector harness: runs a Python KV connector beside a torch forward (docs/connector-api.md)."""

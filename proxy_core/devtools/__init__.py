"""Developer tools behind `make bench` and `make demo` (not imported by the gateway)."""

"""Pure, synchronous stages. Agents (stream/worker/agents.py) own every I/O around them."""

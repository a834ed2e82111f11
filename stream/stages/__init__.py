"""Pure, synchronous stages. Agents (stream/agents.py) own every I/O around them."""

"""The faust stream: parse, normalise, classify, alert, sink; plus the customs-watch CLI."""

"""``customs-watch``: the one command line, one module per command group. Commands parse
their arguments and call library functions; no runtime logic lives here."""

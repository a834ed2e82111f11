"""Feed formats, read the same way by the connectors and by the stream's parse stage.

``tabular`` reads CSV/TSV and .xlsx exports with a mapping file; ``cusdec`` splits UN/EDIFACT
CUSDEC interchanges and reads their goods items. Pure: bytes in, rows or lines out.
"""

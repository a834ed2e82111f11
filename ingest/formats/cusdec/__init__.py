"""UN/EDIFACT CUSDEC (customs declaration message): split an interchange, read its goods.

``split``  an interchange's bytes → its messages (UNH…UNT), each with its exact bytes, and
           the service characters and character set they are read with (connector side);
``goods``  one message → canonical declaration lines, one per goods item (stream side).

Segments are tokenised by pydifact; the subset of CUSDEC read here (and the qualifiers) is
listed in ``goods``' docstring and in ingest/samples/cusdec/README.md.
"""

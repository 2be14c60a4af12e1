"""The language service: Cloud Natural Language's REST surface (v1 and v2) and the text-ready ->
annotations workflow."""

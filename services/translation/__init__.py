"""The translation service: Cloud Translation v3's REST surface and the text-ready ->
translations workflow."""

"""The vision service: Cloud Vision's REST surface and the image -> text workflow."""

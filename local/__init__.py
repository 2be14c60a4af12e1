"""Local stand-ins for Google Cloud services (emulators and the local stack runner)."""

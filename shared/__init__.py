"""The hallway every service walks through: settings, the Flask app factory and Google's error
JSON, structured logging, event decoding, Pub/Sub publishing and Cloud Storage access.

`shared` imports no service. Heavy clients (Pub/Sub, Storage) are created lazily, on first use,
so importing a service stays fast and a cold start does no network work.
"""

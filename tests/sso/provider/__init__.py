"""The test identity provider's Django project (own settings, own SQLite file)."""

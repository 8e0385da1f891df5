"""The REST API (``/api/``) and the Pinboard v1-compatible API (``/api/v1/``)."""

"""The resource kinds and the data that every layer passes around (pure: no AWS import)."""

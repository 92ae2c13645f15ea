"""The build: fingerprints and manifest, the lock, the steps, the link check, publishing."""

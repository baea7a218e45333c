"""Development tools, run from the repository root with the venv's python; never in an image."""

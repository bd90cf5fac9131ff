"""Integration tests: real labs, real services. ``labkit`` (beside this file) gives each
test module a lab of its own; pytest puts this folder on sys.path for it."""

"""Audits of what runs wrote (no secret may leak into a run folder)."""

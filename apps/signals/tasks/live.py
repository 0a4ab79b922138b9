"""Celery tasks for live signals: generation on bar close, evidence, the track record."""

"""Celery tasks for backtest runs."""

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "apps.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        # Registers the tick listener that hands every ingested batch to the engine's stream.
        from apps.alerts.engine import stream  # noqa: F401

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "apps.realtime"
    label = "realtime"
    verbose_name = "Real time"

    def ready(self) -> None:
        # Registers the tick listener that publishes quotes to the `ws` processes.
        from apps.realtime import quotes, receivers  # noqa: F401

        receivers.connect()

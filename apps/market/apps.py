from django.apps import AppConfig


class MarketConfig(AppConfig):
    name = "apps.market"
    label = "market"
    verbose_name = "Market data"

    def ready(self) -> None:
        from apps.market import receivers

        receivers.connect()

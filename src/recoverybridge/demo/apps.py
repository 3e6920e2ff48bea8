from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`make demo`'s data: the top floor, since it fills every app below."""

    name = "recoverybridge.demo"
    verbose_name = "Demo data"

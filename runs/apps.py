from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"
    verbose_name = "Runs"

    def ready(self) -> None:
        # The per-process cache bounds are validated in settings.py; the replay package imports no
        # Django, so they are handed to it here, once, at start-up.
        from django.conf import settings

        from runs.replay.series_cache import SERIES_CACHE
        from runs.replay.state import configure_body_cache

        SERIES_CACHE.configure(settings.FLOWTIME_SERIES_CACHE_MAX_VALUES)
        configure_body_cache(cells=settings.FLOWTIME_STATE_BODY_CACHE_CELLS)

import logging

from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"
    verbose_name = "Runs"

    def ready(self) -> None:
        from runs.artifacts import run_store

        # Spec 03 §7.3: say at start-up when overwrites cannot be one atomic step on this platform.
        # (A filesystem that refuses the call is reported by the first writer that meets it.)
        if not run_store.exchange_supported_by_platform():
            logging.getLogger("flowtime.runs").warning(
                "atomic exchange unavailable on this platform: overwrites replace runs with two renames"
            )
        # The per-process cache bounds are validated in settings.py; the replay package imports no
        # Django, so they are handed to it here, once, at start-up.
        from django.conf import settings

        from runs.replay.loading import configure_run_cache
        from runs.replay.rendered import configure_rendered_cache
        from runs.replay.series_cache import configure_series_cache

        configure_series_cache(max_values=settings.FLOWTIME_SERIES_CACHE_MAX_VALUES)
        configure_rendered_cache(max_bytes=settings.FLOWTIME_RENDERED_SERIES_CACHE_MAX_BYTES)
        configure_run_cache(max_runs=settings.FLOWTIME_REPLAY_RUN_CACHE_MAX_RUNS)

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

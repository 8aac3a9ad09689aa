"""The capture index: one row per capture directory directly under ``<data>/telemetry``.

Disk is the truth (the capture's ``manifest.json``); ``reindex_captures`` rebuilds every row, and
publishing or deleting a capture through the service updates its row after the disk change.
"""

from __future__ import annotations

from django.db import models


class Capture(models.Model):
    capture_id = models.CharField("capture id", primary_key=True, max_length=255)
    source_run_id = models.CharField("source run", max_length=128, blank=True)
    # The source run's template, looked up when the row is written (the manifest does not hold it).
    template_id = models.CharField("template", max_length=128, blank=True)
    # Lower-cased copy so the case-insensitive templateId filter can use a plain index.
    template_key = models.CharField(max_length=128, blank=True, editable=False)
    created_utc = models.DateTimeField("captured (UTC)", null=True, blank=True)
    start_utc = models.DateTimeField("window start (UTC)", null=True, blank=True)
    bins = models.PositiveIntegerField()
    bin_size = models.PositiveIntegerField("bin size")
    bin_unit = models.CharField("bin unit", max_length=16)
    file_count = models.PositiveIntegerField("files", default=0)
    warning_count = models.PositiveIntegerField("warnings", default=0)
    manifest_hash = models.CharField("manifest hash", max_length=80, blank=True)
    path = models.CharField(max_length=300, help_text="Capture directory, relative to the data root.")
    indexed_at = models.DateTimeField("indexed at", auto_now=True)

    class Meta:
        ordering = ["-created_utc", "-capture_id"]
        indexes = [
            models.Index(fields=["-created_utc", "-capture_id"], name="capture_created_desc"),
            models.Index(fields=["source_run_id", "-created_utc", "-capture_id"], name="capture_source_run"),
            models.Index(fields=["template_key", "-created_utc", "-capture_id"], name="capture_template"),
        ]

    def __str__(self) -> str:
        return self.capture_id

    def save(self, *args: object, **kwargs: object) -> None:
        self.template_key = self.template_id.lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

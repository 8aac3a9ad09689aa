"""The run index: one row per published run directory. Disk is the truth; ``reindex_runs`` rebuilds it."""

from __future__ import annotations

from django.db import models


class Run(models.Model):
    run_id = models.CharField("run id", primary_key=True, max_length=128)
    template_id = models.CharField("template", max_length=128)
    # Lower-cased copy so the case-insensitive templateId filter can use a plain index.
    template_key = models.CharField(max_length=128, editable=False)
    template_title = models.CharField("template title", max_length=300, blank=True)
    template_version = models.CharField("template version", max_length=64, blank=True)
    mode = models.CharField(max_length=16)
    created_utc = models.DateTimeField("created (UTC)", null=True, blank=True)
    start_utc = models.DateTimeField("grid start (UTC)", null=True, blank=True)
    duration = models.CharField("duration (ISO 8601)", max_length=64, blank=True)
    bins = models.PositiveIntegerField()
    bin_size = models.PositiveIntegerField("bin size")
    bin_unit = models.CharField("bin unit", max_length=16)
    warning_count = models.PositiveIntegerField("warnings", default=0)
    can_replay = models.BooleanField("can replay", default=False)
    provenance_hash = models.CharField("provenance hash", max_length=80, blank=True)
    input_hash = models.CharField("input hash", max_length=80, blank=True)
    path = models.CharField(max_length=200, help_text="Run directory, relative to the data root.")
    indexed_at = models.DateTimeField("indexed at", auto_now=True)

    class Meta:
        ordering = ["-created_utc", "-run_id"]
        indexes = [
            models.Index(fields=["-created_utc", "-run_id"], name="run_created_desc"),
            models.Index(fields=["created_utc", "run_id"], name="run_created_asc"),
            models.Index(fields=["mode", "-created_utc", "-run_id"], name="run_mode_created"),
            models.Index(fields=["template_key", "-created_utc", "-run_id"], name="run_template_created"),
            # templateId + mode together (the FlowTime UI's filter pair): COUNT and first page read
            # only the matching entries instead of every entry of one of the two.
            models.Index(
                fields=["template_key", "mode", "-created_utc", "-run_id"], name="run_template_mode_created"
            ),
            models.Index(fields=["warning_count"], name="run_warning_count"),
            models.Index(fields=["template_id", "run_id"], name="run_template_id"),
        ]

    def __str__(self) -> str:
        return self.run_id

    def save(self, *args: object, **kwargs: object) -> None:
        self.template_key = self.template_id.lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class IdempotencyKey(models.Model):
    """The answer to a ``POST /v1/runs`` kept for retries that repeat its ``Idempotency-Key``.

    A row with ``status`` null is a claim: its request is being processed. The unique constraint on
    (scope, key) is what makes concurrent requests with one key end in one run.
    """

    scope = models.CharField(max_length=64, help_text="user:<id>, or anonymous for unauthenticated writes.")
    key = models.CharField(max_length=255)
    request_hash = models.CharField("request hash", max_length=80)
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Null while in progress.")
    body = models.TextField(blank=True)
    location = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField("created at")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"

"""The template index: one row per valid catalog template (the files stay the truth)."""

from __future__ import annotations

from django.db import models


class Template(models.Model):
    template_id = models.CharField(primary_key=True, max_length=64)
    title = models.CharField(max_length=200)
    version = models.CharField(max_length=64)
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    mode = models.CharField(max_length=16, db_index=True)
    file_name = models.CharField(max_length=255)
    file_hash = models.CharField(max_length=71)
    parameters = models.JSONField(default=list, blank=True)
    indexed_at = models.DateTimeField()

    class Meta:
        ordering = ("template_id",)

    def __str__(self) -> str:
        return f"{self.template_id} {self.version}"

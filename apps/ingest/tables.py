"""The columns every list of ingest jobs starts with (usage imports, invoice imports): what the shared job
model (``ingest.models.IngestJobBase``) holds. Each list adds its own counts after them."""

from apps.core.tables import Column

JOB_COLUMNS: tuple[Column, ...] = (
    Column("id", "#", value="pk", order="id"),
    Column("file", "File", value="file_name", order="file_name"),
    Column("format", "Format", value="format", order="format"),
    Column("via", "Via", value="get_channel_display", order="channel"),
    Column("status", "Status", value="status", order="status"),
)

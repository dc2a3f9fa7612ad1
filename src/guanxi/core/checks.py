"""System checks that catch set-ups on which Guanxi would silently misbehave."""

from django.core.checks import Warning, register
from django.db import connection


@register("database", deploy=True)
def postgres_ctype(app_configs, **kwargs):
    """pg_trgm makes no trigrams from Chinese under LC_CTYPE=C: search would find nothing."""
    if connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datctype FROM pg_database WHERE datname = current_database()")
            ctype = cursor.fetchone()[0]
    except Exception:  # noqa: BLE001 - a check must not crash start-up
        return []
    if "utf" not in ctype.lower():
        return [Warning(f"The database's LC_CTYPE is {ctype}; Chinese search needs a UTF-8 ctype "
                        "(create it with LC_CTYPE 'C.UTF-8').", id="guanxi.W001")]
    return []

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from access_tokens.conf import token_settings
from access_tokens.models import AccessTokenEvent
from access_tokens.services import purge_inactive_tokens


class Command(BaseCommand):
    help = (
        "Delete audit-trail rows (access token events) older than N days, and tokens that "
        "stopped working (revoked or expired) more than ACCESS_TOKEN_INACTIVE_RETENTION_DAYS "
        "ago. Safe to run from cron daily."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=str,
            required=True,
            metavar="DAYS",
            help="Delete events created more than this many days ago (e.g. 365).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be deleted; delete nothing.",
        )

    def handle(self, *args, older_than: str, dry_run: bool, **options) -> None:
        try:
            days = int(older_than)
        except ValueError:
            raise CommandError(
                f"--older-than takes a whole number of days, not {older_than!r}."
            ) from None
        if days < 1:
            raise CommandError(f"--older-than must be at least 1 day, not {days}.")
        now = timezone.now()
        cutoff = now - dt.timedelta(days=days)
        old = AccessTokenEvent.objects.filter(created_at__lt=cutoff)
        if dry_run:
            count = old.count()
            verb = "Would delete"
        else:
            count, _ = old.delete()
            verb = "Deleted"
        tokens = purge_inactive_tokens(now=now, dry_run=dry_run)
        retention = token_settings.INACTIVE_RETENTION_DAYS
        self.stdout.write(
            f"{verb} {count} access token event(s) older than {days} day(s) "
            f"(before {cutoff:%Y-%m-%d %H:%M} UTC) and {tokens} token(s) inactive for more "
            f"than {retention} day(s)."
        )

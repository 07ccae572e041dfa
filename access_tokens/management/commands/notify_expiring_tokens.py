import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from access_tokens.notifications import notify_expiring_tokens


def _positive_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise CommandError(f"--within takes a whole number of days, not {value!r}.") from None
    if days < 1:
        raise CommandError(f"--within must be at least 1 day, not {days}.")
    return days


class Command(BaseCommand):
    help = (
        "Email each owner about their tokens that expire within N days, once per token. "
        "Safe to run from cron every hour: a token already notified is skipped."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--within",
            type=str,
            default="7",
            metavar="DAYS",
            help="Notify about tokens expiring within this many days (default: 7).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say what would be sent; send nothing and change nothing.",
        )

    def handle(self, *args, within: str, dry_run: bool, **options) -> None:
        days = _positive_days(within)
        result = notify_expiring_tokens(within=dt.timedelta(days=days), dry_run=dry_run)
        verb = "Would notify" if dry_run else "Notified"
        line = (
            f"{verb} {result.owners} owner(s) about {result.tokens} token(s) expiring within "
            f"{days} day(s)"
        )
        if result.skipped_no_email:
            line += f"; skipped {result.skipped_no_email} token(s) whose owner has no email"
        if result.waiting_for_address:
            line += (
                f"; held {result.waiting_for_address} token(s) until their owner verifies "
                "their email address"
            )
        self.stdout.write(line + ".")

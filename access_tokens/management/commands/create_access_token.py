import contextlib
import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.views.decorators.debug import sensitive_variables

from access_tokens import scopes, services
from access_tokens.expiry import end_of_day_in
from access_tokens.models import AccessTokenEvent


class Command(BaseCommand):
    help = (
        "Create a personal access token for USERNAME and print it once on standard output "
        "(for bootstrapping CI or service accounts). Everything else goes to standard error, "
        "so TOKEN=$(manage.py create_access_token ci) captures the token alone. The audit trail "
        "records the operator as 'command line'."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="The user who will own the token.")
        parser.add_argument("--name", default="", help="What the token is for (up to 100).")
        expiry = parser.add_mutually_exclusive_group()
        expiry.add_argument(
            "--expires-in-days",
            type=str,
            default="30",
            metavar="DAYS",
            help="The token works through the end of the day DAYS days from today (default: 30).",
        )
        expiry.add_argument(
            "--no-expiry",
            action="store_true",
            help="The token never expires (refused when ACCESS_TOKEN_MAX_LIFETIME_DAYS is set).",
        )
        parser.add_argument(
            "--scopes",
            default=None,
            metavar="NAMES",
            help="Comma-separated scopes, e.g. read_api or api,read_user (default: api). "
            f"Known here: {', '.join(scopes.registry())}.",
        )
        parser.add_argument(
            "--scope",
            default=None,
            metavar="{read_write,read_only}",
            help="Deprecated: read_write is --scopes api, read_only is --scopes read_api.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the arguments and the limits; create nothing and print no token.",
        )

    def _scopes(self, value: str | None, legacy: str | None) -> list[str]:
        if value is not None and legacy is not None:
            raise CommandError("Give --scopes or the deprecated --scope, not both.")
        if legacy is not None:
            if legacy not in scopes.LEGACY_SCOPES:
                raise CommandError(f"--scope must be read_write or read_only, not {legacy!r}.")
            return list(scopes.LEGACY_SCOPES[legacy])
        names = [n.strip() for n in (value or scopes.API).split(",") if n.strip()]
        try:
            services.clean_scopes(names)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        return names

    def _expires_at(self, value: str, no_expiry: bool) -> dt.datetime | None:
        if no_expiry:
            return None
        try:
            days = int(value)
        except ValueError:
            raise CommandError(
                f"--expires-in-days takes a whole number of days, not {value!r}."
            ) from None
        if days < 1:
            raise CommandError(f"--expires-in-days must be at least 1, not {days}.")
        try:
            return end_of_day_in(days)
        except OverflowError:
            raise CommandError(f"--expires-in-days {days} is too far in the future.") from None

    @sensitive_variables("raw")
    def handle(self, *args, username: str, dry_run: bool, **options) -> None:
        # The arguments first, so a typo is reported without touching the database.
        names = self._scopes(options["scopes"], options["scope"])
        expires_at = self._expires_at(options["expires_in_days"], options["no_expiry"])
        try:
            name = services.clean_token_name(options["name"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive: a token of theirs would not work.")
        try:
            if dry_run:
                services.validate_new_token(user=user, expires_at=expires_at, scopes=names)
            else:
                # The console email backend prints to stdout, which must hold the token alone.
                with contextlib.redirect_stdout(self.stderr):
                    token, raw = services.create_access_token(
                        user=user,
                        name=name,
                        expires_at=expires_at,
                        scopes=names,
                        actor=None,
                        via=AccessTokenEvent.Via.COMMAND_LINE,
                    )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None

        expiry = f"expires {expires_at:%Y-%m-%d}" if expires_at else "never expires"
        label = name or "Unnamed token"
        if dry_run:
            self.stderr.write(
                f"Dry run: would create token {label!r} ({', '.join(names)}) for {username}, "
                f"{expiry}. "
                "Nothing was created.",
                style_func=self.style.WARNING,
            )
            return
        self.stdout.write(raw)
        self.stderr.write(
            f"Created token {label!r} ({token.masked}, {', '.join(token.scope_list)}) for "
            f"{username}, {expiry}. "
            "This is the only time the token is shown: store it now.",
            style_func=self.style.SUCCESS,
        )

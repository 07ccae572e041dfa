"""One trivial DRF view for every per-request case, and a `/api/v1/me/`-like view for load."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db import connections, router
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.response import Response
from rest_framework.views import APIView

from access_tokens.authentication import AccessTokenAuthentication
from access_tokens.throttling import UserThrottle

from .models import ArgonToken


class Hello(APIView):
    """Answer with the caller's username. Throttles are off so only authentication differs."""

    throttle_classes = []

    def get(self, request):
        return Response({"user": request.user.get_username()})


class QuietUserThrottle(UserThrottle):
    """The product's per-user throttle without its RateLimit-* headers: the yardstick for
    what the headers alone cost."""

    def _tell(self, view) -> None:
        pass


class Throttled(Hello):
    """Hello with the product's per-user throttle and its RateLimit-* headers."""

    throttle_classes = [UserThrottle]


class ThrottledQuietly(Hello):
    throttle_classes = [QuietUserThrottle]


class Me(APIView):
    """`/api/v1/me/` without the token serializer, so both token kinds return the same body.

    Throttles stay as the product configures them (DEFAULT_THROTTLE_CLASSES).
    """

    def get(self, request):
        user = request.user
        return Response({"id": user.pk, "username": user.get_username(), "email": user.email})


class NaiveArgon2Authentication(BaseAuthentication):
    """`Authorization: Argon <key_id>.<secret>`, the secret checked by Argon2. Never do this."""

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if len(auth) != 2 or auth[0].lower() != b"argon":
            return None
        key_id, _, secret = auth[1].decode().partition(".")
        try:
            row = ArgonToken.objects.select_related("user").get(key_id=key_id)
        except ArgonToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if not check_password(secret, row.encoded):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return row.user, row

    def authenticate_header(self, request):
        return "Argon"


class WaitingTokenAuthentication(BaseAuthentication):
    """The product's token authentication under a name that the lookup-ahead middleware
    (access_tokens/ahead.py) does not know, so its lookup waits for the authentication to ask:
    the same request as the `AccessToken` case, as it ran before the lookup was sent ahead."""

    inner = AccessTokenAuthentication()

    def authenticate(self, request):
        return self.inner.authenticate(request)

    def authenticate_header(self, request):
        return self.inner.authenticate_header(request)


class RoundTripOnlyAuthentication(BaseAuthentication):
    """Not an authentication: one `SELECT 1` on the database, then a user kept in memory.

    The least that any authentication which asks the database can cost (a token checked
    there, a revocation list, a session): the yardstick that shows how much of the "vs floor"
    ratio the database's round trip alone takes on the machine at hand.
    """

    users: dict[str, object] = {}

    def authenticate(self, request):
        db = router.db_for_read(get_user_model())
        with connections[db].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        user = self.users.get(db)
        if user is None:
            user = self.users[db] = get_user_model().objects.using(db).get(username="alice")
        return user, None

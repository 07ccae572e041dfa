"""
The scope registry: what a token may be used for, modelled on GitLab's token scopes.

A token holds a set of scope names. A DRF view says which scopes may call it
(`required_scopes`, any one of them is enough); a token passes when one of its scopes, or a
scope one of them implies, is among them. Built in:

    api          everything the owner can do through the API   (implies all three below)
    read_api     safe methods only: GET, HEAD, OPTIONS            (implies read_user)
    read_user    only /api/v1/me/
    self_rotate  only rotating the token itself

A host project adds its own with the ACCESS_TOKEN_SCOPES setting:

    ACCESS_TOKEN_SCOPES = {"deploy": "Trigger deployments."}
    ACCESS_TOKEN_SCOPES = {"deploy": {"description": "Trigger deployments.", "implies": []}}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rest_framework.permissions import SAFE_METHODS

from .conf import token_settings

API = "api"
READ_API = "read_api"
READ_USER = "read_user"
SELF_ROTATE = "self_rotate"

# The values of the old two-level `scope` field, still accepted from API clients and the
# create_access_token command, and what each became.
LEGACY_SCOPES = {"read_write": (API,), "read_only": (READ_API,)}


@dataclass(frozen=True)
class Scope:
    name: str
    description: str
    implies: frozenset[str] = field(default_factory=frozenset)


BUILT_IN = (
    Scope(
        API,
        "Everything you can do through the API (includes read_api, read_user and self_rotate).",
        frozenset({READ_API, READ_USER, SELF_ROTATE}),
    ),
    Scope(
        READ_API,
        "Read only: GET, HEAD and OPTIONS anywhere in the API (includes read_user).",
        frozenset({READ_USER}),
    ),
    Scope(READ_USER, "Only GET /api/v1/me/: who you are."),
    Scope(
        SELF_ROTATE, "Only rotate itself (POST /api/v1/access-tokens/self/rotate/), nothing else."
    ),
)


def _from_setting(name: str, value: str | Mapping) -> Scope:
    if isinstance(value, str):
        return Scope(name, value)
    return Scope(name, value.get("description", ""), frozenset(value.get("implies", ())))


class _Cache:
    """The registry and the expansions asked of it, rebuilt when the setting is replaced (a
    host's settings at startup, or a test's override), so the hot path does no work."""

    source: object = None
    scopes: dict[str, Scope] = {}
    expansions: dict = {}  # scope names -> what they grant; also granting()'s answers


def registry() -> dict[str, Scope]:
    """Return every scope by name: the built-in ones, then the host project's."""
    extra = token_settings.SCOPES
    if _Cache.source is not extra:
        scopes = {scope.name: scope for scope in BUILT_IN}
        for name, value in extra.items():
            scopes.setdefault(name, _from_setting(name, value))
        _Cache.scopes, _Cache.expansions, _Cache.source = scopes, {}, extra
    return _Cache.scopes


def choices() -> list[tuple[str, str]]:
    return [(scope.name, scope.name) for scope in registry().values()]


def normalise(names: Iterable[str]) -> str:
    """Return scope names as stored: unique, sorted, space-separated."""
    return " ".join(sorted(set(names)))


def expand(names: Iterable[str]) -> frozenset[str]:
    """Return the scopes `names` grant, implied ones included."""
    known = registry()
    key = frozenset(names)
    cached = _Cache.expansions.get(key)
    if cached is None:
        cached = _Cache.expansions[key] = _expand(key, known)
    return cached


def _expand(names: frozenset[str], known: dict[str, Scope]) -> frozenset[str]:
    granted: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in granted:
            continue
        granted.add(name)
        if name in known:
            pending.extend(known[name].implies)
    return frozenset(granted)


def uncovered(parent: Iterable[str], child: Iterable[str]) -> list[str]:
    """Return the scopes of `child` that `parent` does not grant (empty: child is no wider)."""
    granted = expand(parent)
    return sorted(set(child) - granted)


def granting(needed: Iterable[str]) -> list[str]:
    """Return every scope that would satisfy a need for any of `needed` (itself or through
    what it implies), to tell a refused client what to ask for."""
    known = registry()  # rebuilds the caches if the setting changed
    key = ("granting", frozenset(needed))
    cached = _Cache.expansions.get(key)
    if cached is None:
        cached = _Cache.expansions[key] = tuple(
            sorted(name for name in known if expand([name]) & key[1])
        )
    return list(cached)


def granting_header(needed: frozenset[str]) -> str:
    """Return granting(needed) as a header value, computed once per setting (the hot path
    sends it on every token-authenticated answer)."""
    registry()
    key = ("granting_header", needed)
    cached = _Cache.expansions.get(key)
    if cached is None:
        cached = _Cache.expansions[key] = ", ".join(granting(needed))
    return cached


def unknown(names: Iterable[str]) -> list[str]:
    """Return the names that are not registered scopes."""
    known = registry()
    return sorted(name for name in set(names) if name not in known)


def granted_by(stored: str) -> frozenset[str]:
    """Return what a token's stored scopes ("api read_user") grant, implied ones included."""
    registry()  # rebuilds the caches if the setting changed
    cached = _Cache.expansions.get(stored)
    if cached is None:
        cached = _Cache.expansions[stored] = expand(stored.split())
    return cached


_SAFE = frozenset({READ_API})
_UNSAFE = frozenset({API})
_declared: dict[tuple[int, str], tuple[object, frozenset[str]]] = {}


def required_for(view, method: str) -> frozenset[str]:
    """Return the scopes that may make this request to `view` (any one suffices).

    A view declares `required_scopes` as a list, or as a dict from HTTP method to a list;
    without a declaration safe methods need read_api and everything else api.
    """
    declared = getattr(view, "required_scopes", None)
    if declared is None:
        return _SAFE if method in SAFE_METHODS else _UNSAFE
    # Declarations live on view classes (or in as_view's kwargs): read each once.
    key = (id(declared), method)
    cached = _declared.get(key)
    if cached is None or cached[0] is not declared:
        names = declared.get(method.upper()) if isinstance(declared, Mapping) else declared
        if names is None:
            result = _SAFE if method.upper() in SAFE_METHODS else _UNSAFE
        else:
            result = frozenset(names)
        cached = _declared[key] = (declared, result)
    return cached[1]

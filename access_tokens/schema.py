"""OpenAPI descriptions of the token schemes, so "Authorize" in /api/docs/ works."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class AccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "access_tokens.authentication.AccessTokenAuthentication"
    name = "AccessToken"

    def get_security_definition(self, auto_schema):
        # Swagger UI sends "Bearer <token>", which the server accepts like "AccessToken <token>".
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "kspat_…",
            "description": (
                "A personal access token. Send `Authorization: AccessToken kspat_…` or "
                "`Authorization: Bearer kspat_…`."
            ),
        }


class AccessTokenBasicScheme(OpenApiAuthenticationExtension):
    target_class = "access_tokens.authentication.AccessTokenBasicAuthentication"
    name = "AccessTokenBasic"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "HTTP Basic with any username and a personal access token as password.",
        }

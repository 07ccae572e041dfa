from django.contrib import admin
from django.urls import include, path

from access_tokens.schema_views import DocsView, SchemaView

from . import views

# The admin says whose it is. Set here, by the host project, so access_tokens stays reusable.
admin.site.site_header = "Keystand administration"
admin.site.site_title = "Keystand administration"
admin.site.index_title = "Tokens, accounts and audit trail"
# The models sidebar costs 300 px on every page; without it the token list, its filters and all
# eight columns fit a 1,280 px screen. The home page and the breadcrumbs lead everywhere.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    # The API first: it takes nearly every request, and every include() tried before it
    # answers a path it does not hold by raising Resolver404, which the root catches: two
    # exceptions (accounts/, settings/access-tokens/) on every API request when it came later.
    path("api/v1/", include("access_tokens.api_urls")),
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("settings/access-tokens/", include("access_tokens.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from .forms import LimitedPasswordChangeForm, LoginForm, SignupForm


def _too_many_attempts(form) -> bool:
    return any(e.code == "locked" for errors in form.errors.as_data().values() for e in errors)


class Login(LoginView):
    """Django's sign-in view with the failure limiter; a locked-out attempt answers 429."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if _too_many_attempts(form):
            response.status_code = 429
        return response


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_ENABLED:
        raise Http404("Sign-up is turned off.")
    if request.user.is_authenticated:
        return redirect("home")

    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # login() rotates the session key, so a session fixed before sign-up is worthless.
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to Keystand! Create your first access token below.")
        return redirect("access_tokens:list")
    return render(request, "accounts/signup.html", {"form": form})


@method_decorator(never_cache, name="dispatch")
class PasswordChange(PasswordChangeView):
    """Change the password, keep this session signed in and say so."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")
    form_class = LimitedPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if _too_many_attempts(form):
            response.status_code = 429
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        # Django's view keeps this session (update_session_auth_hash); rotate its key as well.
        self.request.session.cycle_key()
        messages.success(self.request, "Your password was changed.")
        return response

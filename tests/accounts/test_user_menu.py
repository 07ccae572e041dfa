import re

import pytest


def _menu(client) -> str:
    html = client.get("/").content.decode()
    match = re.search(r'<details class="user-menu".*?</details>', html, re.S)
    assert match, "no user menu on the page"
    return match.group(0)


def test_it_shows_name_email_and_initials(alice_client):
    menu = _menu(alice_client)
    assert "Alice Liddell" in menu
    assert "alice@example.org" in menu
    assert '<span aria-hidden="true">AL</span>' in menu


def test_it_falls_back_to_the_username(client, bob):
    client.force_login(bob)
    menu = _menu(client)
    assert "<strong>bob</strong>" in menu
    assert '<span aria-hidden="true">B</span>' in menu


def test_it_links_tokens_password_email_and_two_factor(alice_client):
    menu = _menu(alice_client)
    assert re.search(r'href="/settings/access-tokens/"[^>]*>Personal Access Tokens</a>', menu)
    assert re.search(r'href="/accounts/password/change/"[^>]*>Change password</a>', menu)
    assert re.search(r'href="/accounts/email/"[^>]*>Email address</a>', menu)
    assert re.search(r'href="/accounts/2fa/"[^>]*>Two-factor authentication</a>', menu)


def test_it_signs_out_with_a_post_form(alice_client):
    menu = _menu(alice_client)
    form = re.search(r'<form method="post" action="/accounts/logout/".*?</form>', menu, re.S)
    assert form
    assert 'name="csrfmiddlewaretoken"' in form.group(0)
    assert ">Log out</button>" in form.group(0)


def test_it_hides_admin_from_non_staff(alice_client):
    menu = _menu(alice_client)
    assert "Admin" not in menu
    assert 'href="/admin/"' not in menu


@pytest.mark.parametrize("superuser", [True, False])
def test_it_shows_admin_to_staff(client, django_user_model, superuser):
    user = django_user_model.objects.create_user("sam", "sam@example.org", "x", is_staff=True)
    user.is_superuser = superuser
    user.save()
    client.force_login(user)
    menu = _menu(client)
    assert re.search(r'href="/admin/"[^>]*>Admin</a>', menu)


def test_it_escapes_the_name(client, django_user_model):
    user = django_user_model.objects.create_user(
        "mallory", "mallory@example.org", "x", first_name="<script>alert(1)</script>"
    )
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_it_is_absent_for_anonymous_visitors(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert "user-menu" not in html
    assert 'href="/accounts/login/"' in html

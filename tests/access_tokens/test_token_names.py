"""The breakable filter: long names wrap between their words, and stay escaped."""

from django.template import Context, Template


def _render(name: str) -> str:
    return Template("{% load token_names %}{{ name|breakable }}").render(Context({"name": name}))


def test_it_lets_a_name_wrap_after_underscores_and_dots():
    assert _render("svc_gitlab.runner") == "svc_<wbr>gitlab.<wbr>runner"


def test_it_escapes_markup_first():
    out = _render("<img src=x onerror=alert(1)> & 'a_b'")
    assert "<img" not in out
    assert out == "&lt;img src=x onerror=alert(1)&gt; &amp; &#x27;a_<wbr>b&#x27;"


def test_it_leaves_a_plain_name_alone():
    assert _render("Laptop") == "Laptop"

"""Imported by the fork server of tests/forked_manage.py, and only there: preloads the
libraries every manage.py run imports."""

from tests.forked_manage import preload

preload()

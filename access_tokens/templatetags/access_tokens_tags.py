"""The template filters the app's pages use, so a host need not install django.contrib.humanize.

`naturaltime` is humanize's own function, registered here: importing it does not need the
humanize app, only Django.
"""

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime

register = template.Library()
register.filter("naturaltime", naturaltime)

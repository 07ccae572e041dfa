from django.contrib import admin

from .models import Person


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["email", "full_name", "is_staff"]
    search_fields = ["email"]

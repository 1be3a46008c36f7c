"""The admin serves configuration: the unit tree, members, categories. Not the workflow."""

from django.contrib import admin

from .models import Category, Member, Organisation, Unit


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "clock_day"]
    fields = ["name", "name_en", "clock_day"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["path", "name", "name_en", "org"]
    list_filter = ["org"]
    search_fields = ["name", "name_en", "code"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "org"]
    list_filter = ["org"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "user", "language"]
    list_filter = ["org", "unit"]
    search_fields = ["name", "user__username"]
    raw_id_fields = ["user", "unit"]

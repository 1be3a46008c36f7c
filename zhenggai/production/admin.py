"""Configuration of the production side: furnaces and their norms, targets, planned repairs,
who records and who verifies. The heat log itself is kept through its pages and API."""

from django.contrib import admin

from .models import Furnace, GradeNorm, ProductionRole, Repair, ShiftPlan, Target


class GradeNormInline(admin.TabularInline):
    model = GradeNorm
    extra = 1


@admin.register(Furnace)
class FurnaceAdmin(admin.ModelAdmin):
    list_display = ("number", "kind", "capacity_t", "hearth_m2", "commissioned", "org")
    list_filter = ("org", "kind")
    inlines = [GradeNormInline]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ("year", "furnace", "plan_t", "increase_t", "org")
    list_filter = ("org", "year")


@admin.register(Repair)
class RepairAdmin(admin.ModelAdmin):
    list_display = ("furnace", "starts", "ends", "note")


@admin.register(ProductionRole)
class ProductionRoleAdmin(admin.ModelAdmin):
    list_display = ("member", "role")
    list_filter = ("role",)
    autocomplete_fields = ("member",)


@admin.register(ShiftPlan)
class ShiftPlanAdmin(admin.ModelAdmin):
    list_display = ("org", "shifts")

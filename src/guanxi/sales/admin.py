"""The company profile (letterhead, discount threshold) and the catalogue in Django's admin."""

from django.contrib import admin

from .catalog_models import BundleComponent, PriceList, PriceListItem, Product, ProductCategory
from .quote_models import CompanyProfile


@admin.register(CompanyProfile)
class CompanyProfileAdmin(admin.ModelAdmin):
    list_display = ("name", "tax_id", "discount_threshold")

    def has_add_permission(self, request) -> bool:  # one row, made on first use
        return not CompanyProfile.objects.exists()


class ComponentInline(admin.TabularInline):
    model = BundleComponent
    fk_name = "bundle"
    raw_id_fields = ("product",)
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "unit", "tax_rate", "active")
    list_filter = ("kind", "active", "category")
    search_fields = ("code", "name")
    inlines = [ComponentInline]


class PriceInline(admin.TabularInline):
    model = PriceListItem
    raw_id_fields = ("product",)
    extra = 0


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ("name", "currency", "valid_from", "valid_to", "is_default")
    inlines = [PriceInline]


admin.site.register(ProductCategory)

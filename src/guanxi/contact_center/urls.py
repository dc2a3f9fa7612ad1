"""Pages of the contact centre: each channel adds its own patterns."""

app_name = "contact_center"
urlpatterns: list = []

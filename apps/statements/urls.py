from django.urls import path

from . import views

app_name = "statements"

urlpatterns = [
    path("statements/", views.statement_list, name="list"),
    path("statements/<int:pk>/", views.statement_detail, name="detail"),
    path("statements/<int:pk>/print/", views.statement_print, name="print"),
    path("statements/<int:pk>/export.csv", views.statement_export, name="export"),
    path("statements/<int:pk>/statement.pdf", views.statement_pdf_download, name="pdf"),
]

"""Evaluation pages, under /staff/evaluation/: the report form, the report, and the same report
as PDF and CSV (one query string for all four, so a report's links are shareable)."""

from django.urls import path

from recoverybridge.evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("", views.start, name="start"),
    path("report/", views.report, name="report"),
    path("report/progress/", views.progress, name="progress"),
    path("report.pdf", views.report_pdf, name="report_pdf"),
    path("report.csv", views.report_csv, name="report_csv"),
]

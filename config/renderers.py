from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    """Form fields drawn through templates/forms/field.html: label (with the required mark),
    help text, the widget and its errors. Django's BoundField adds aria-invalid and an
    aria-describedby naming the help text's and the error list's ids; the template gives those
    elements the ids it names.

    TemplatesSetting loads through TEMPLATES, so the project's templates/ directory can hold
    form and widget templates; "django.forms" in INSTALLED_APPS lets it find Django's own."""

    field_template_name = "forms/field.html"

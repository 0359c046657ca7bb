"""Labs (检测机构). The sampling-inspection workflow lives here later; labs exist from day one
because lab staff accounts belong to a lab."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Lab(models.Model):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    cma_number = models.CharField(
        _("CMA certificate number"),
        max_length=40,
        blank=True,
        help_text=_("China Metrology Accreditation (资质认定): required for test data used as evidence."),
    )
    cnas_number = models.CharField(_("CNAS accreditation number"), max_length=40, blank=True)
    accreditation_expires = models.DateField(_("accreditation expires"), null=True, blank=True)
    scope = models.JSONField(_("accredited test items"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lab")
        verbose_name_plural = _("labs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

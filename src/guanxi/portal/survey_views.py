"""The satisfaction survey a resolved ticket's contact receives by e-mail: a signed link, no log-in."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from guanxi.service import csat_services
from guanxi.service.csat_models import SatisfactionResponse

from .ui import errors_of, page


def survey(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = csat_services.ticket_for_token(token)
    except ValidationError as exc:
        return page(request, "portal/survey.html", {"refused": " ".join(errors_of(exc).get("token", []))},
                    status=400)
    answer = SatisfactionResponse.objects.filter(ticket=ticket).first()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            answer = csat_services.answer_survey(ticket, request.POST.get("score"), request.POST.get("comment", ""))
            return page(request, "portal/survey.html", {"ticket": ticket, "answer": answer, "thanks": True})
        except ValidationError as exc:
            errors = errors_of(exc)
    return page(request, "portal/survey.html", {"ticket": ticket, "answer": answer, "errors": errors,
                                                "scores": range(1, 6), "comment": request.POST.get("comment", "")},
                status=400 if errors else 200)

import json
from datetime import date

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from apps.core.api.filtering import single_values
from apps.fx import selectors
from apps.fx.models import FxRate, FxRateLoad
from apps.fx.own_file import OwnRatesError, own_rate
from apps.fx.services import org_rates_load
from apps.tenancy.api.views import OrganizationAPIView
from apps.tenancy.models import Organization
from apps.tenancy.roles import TokenScope

from .serializers import FxRateSerializer, OwnRatesInSerializer, OwnRatesLoadedSerializer

FILTERS = ("day", "from", "to", "source")
# What the filters accept, said in the schema as the view checks it (a blank value is refused, not ignored).
DAY_SCHEMA = {"type": "string", "format": "date"}
CURRENCY_SCHEMA = {"type": "string", "pattern": "^[A-Za-z]{3}$"}
SOURCE_SCHEMA = {"type": "string", "pattern": "\\S"}


class FxRateView(OrganizationAPIView):
    """Exchange rates. GET lists the rates the organisation converts with: the global ECB rates when its
    source is the ECB (or ``source=ECB``), else its own (``source=`` one of its own source names). POST loads
    the organisation's own rates (never the ECB table); an Idempotency-Key makes a retry safe."""

    queryset = FxRate.objects.none()
    serializer_class = FxRateSerializer
    read_scope = TokenScope.FX_READ
    write_scope = TokenScope.FX_WRITE
    filter_backends: list = []

    def _filters(self) -> dict:
        params = self.request.query_params
        errors = single_values(params, FILTERS)
        values: dict = {}
        if "day" in params and "day" not in errors:
            try:
                values["day"] = date.fromisoformat(params["day"])
            except ValueError:
                errors["day"] = ["Give a date like 2026-11-02."]
        for name in ("from", "to"):
            if name in params and name not in errors:
                code = params[name].strip().upper()
                if len(code) != 3 or not code.isalpha() or not code.isascii():
                    errors[name] = ["Give a three-letter ISO currency code."]
                values[name] = code
        if "source" in params and "source" not in errors:
            if not params["source"].strip():
                errors["source"] = ["Give a value, or leave the parameter out."]
            values["source"] = params["source"].strip()
        if errors:
            raise DRFValidationError(errors)
        return values

    def get_queryset(self):
        organization = self.request.organization
        values = self._filters()
        source = values.get("source")
        use_ecb = source.upper() == "ECB" if source else organization.fx_source == Organization.FxSource.ECB
        if use_ecb:
            return selectors.ecb_rates_list(
                day=values.get("day"), from_currency=values.get("from"), to_currency=values.get("to")
            )
        return selectors.own_rates_list(
            organization=organization,
            day=values.get("day"),
            from_currency=values.get("from"),
            to_currency=values.get("to"),
            source=source,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("day", DAY_SCHEMA, description="A day (YYYY-MM-DD).", allow_blank=False),
            OpenApiParameter("from", CURRENCY_SCHEMA, description="From currency (ISO code).", allow_blank=False),
            OpenApiParameter("to", CURRENCY_SCHEMA, description="To currency (ISO code).", allow_blank=False),
            OpenApiParameter(
                "source",
                SOURCE_SCHEMA,
                description="ECB, or one of the organisation's own source names.",
                allow_blank=False,
            ),
        ],
        responses=FxRateSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=OwnRatesInSerializer,
        responses={201: OwnRatesLoadedSerializer, 200: OwnRatesLoadedSerializer},
        description='Load own rates: {"rates": [{"day": "2026-11-02", "from": "USD", "to": "EUR", "rate": '
        '"0.8712", "source": "Treasury EOD"}]}. Answers 201 with the counts; the same Idempotency-Key with the '
        "same body answers the stored answer (Idempotent-Replayed: true), with another body 422; once the key "
        "has been purged (after 48 h) the load still knows it: the same body answers the same load (200).",
    )
    def post(self, request):
        incoming = OwnRatesInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        rates, errors = [], {}
        for index, row in enumerate(incoming.validated_data["rates"]):
            try:
                rates.append(
                    own_rate(
                        day=row["day"],
                        from_currency=row["from"],
                        to_currency=row["to"],
                        rate=row["rate"],
                        source=row.get("source", ""),
                        note=row.get("note", ""),
                    )
                )
            except OwnRatesError as exc:
                errors[f"rates[{index}]"] = exc.errors
        keys = {(rate.source, rate.day, rate.from_currency, rate.to_currency) for rate in rates}
        if len(keys) != len(rates) and not errors:
            errors["rates"] = ["A pair appears twice for the same day and source."]
        if errors:
            raise DRFValidationError(errors)
        body = json.dumps(request.data, sort_keys=True, default=str).encode()
        try:
            load = org_rates_load(
                organization=request.organization,
                rates=rates,
                actor=request.user,
                channel=FxRateLoad.Channel.API,
                file_name="api",
                body=body,
                idempotency_key=request.headers.get("Idempotency-Key"),
            )
        except ValidationError as exc:
            raise DRFValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc
        data = {**load.counts, "load": load.pk}
        response = Response(data, status=status.HTTP_200_OK if load.replayed else status.HTTP_201_CREATED)
        if load.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

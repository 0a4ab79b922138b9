"""CSV import and export of a portfolio's transactions over REST (owner only, 404 otherwise)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.portfolios import exports, imports
from apps.portfolios.models import Portfolio

_TAGS = ["portfolios"]


def _owned(request: Request, portfolio_id: int) -> Portfolio:
    portfolio = Portfolio.objects.filter(owner=request.user.pk, id=portfolio_id).first()
    if portfolio is None:
        raise Http404
    return portfolio


class ImportInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    file = serializers.FileField(
        allow_empty_file=True,  # answered like a header-only file, with the import body
        help_text="The CSV file (UTF-8; see docs/portfolios-csv.md).",
    )
    format = serializers.ChoiceField(
        choices=imports.FORMATS, required=False, help_text="Detected from the header if absent."
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Validate and report only; nothing is stored."
    )


class SkippedLineOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    line = serializers.IntegerField()
    reason = serializers.CharField()


class ImportOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    format = serializers.ChoiceField(choices=imports.FORMATS)
    imported = serializers.IntegerField(help_text="New transactions (would be) stored.")
    skipped_duplicates = serializers.IntegerField(
        help_text="Lines whose trade id is already in the portfolio or earlier in the file."
    )
    skipped_other = SkippedLineOutputSerializer(many=True)
    dry_run = serializers.BooleanField()


class LineErrorOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    line = serializers.IntegerField(help_text="As in the file; the header is line 1.")
    field = serializers.CharField(help_text="The column; empty for the whole line.")
    message = serializers.CharField()


class ImportErrorOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    detail = serializers.CharField()
    # The metaclass moves declared fields off the class, so `Serializer.errors` still works.
    errors = LineErrorOutputSerializer(  # type: ignore[assignment]
        many=True, help_text="The first 200 problems, by line."
    )
    more_errors = serializers.IntegerField(help_text="Problems not listed in `errors`.")


def _failed(exc: imports.ImportFailed) -> Response:
    shown = exc.errors[: imports.MAX_REPORTED_ERRORS]
    more = len(exc.errors) - len(shown)
    detail = exc.detail
    if more:
        detail = f"{detail} " + _("%(count)d more problems are not listed.") % {"count": more}
    body: dict[str, Any] = ImportErrorOutputSerializer(
        {"detail": detail, "errors": shown, "more_errors": more}
    ).data
    # The API's usual error envelope too, for clients that read only that.
    body["error"] = {"code": "import_invalid", "message": detail, "fields": {}}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


class PortfolioImportApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=_TAGS,
        summary="Import transactions from a CSV file",
        description=(
            "StockSense CSV or a Zerodha Console tradebook. All or nothing: any bad line → 400 "
            "listing every problem by line, nothing stored. Lines whose trade id is already in "
            "the portfolio (or earlier in the file) are skipped, so re-importing a file is safe."
        ),
        request={"multipart/form-data": ImportInputSerializer},
        responses={
            200: ImportOutputSerializer,
            400: ImportErrorOutputSerializer,
            404: OpenApiResponse(description="No such portfolio, or not yours."),
        },
    )
    def post(self, request: Request, portfolio_id: int) -> Response:
        portfolio = _owned(request, portfolio_id)
        serializer = ImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            if upload.size > imports.import_max_bytes():
                raise imports.ImportFailed(
                    _("The file is larger than %(size)s MB; split it into smaller files.")
                    % {"size": f"{imports.import_max_bytes() / 1e6:.1f}"}
                )
            result = imports.transactions_file_import(
                portfolio=portfolio,
                content=upload.read(),
                file_format=serializer.validated_data.get("format"),
                dry_run=serializer.validated_data["dry_run"],
            )
        except imports.ImportFailed as exc:
            return _failed(exc)
        return Response(ImportOutputSerializer(result).data)


class _JsonFirst(BaseContentNegotiation):
    """Errors are JSON whatever the Accept header says (a CSV download asks for text/csv)."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0]

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> Any:
        return renderers[0], renderers[0].media_type


class PortfolioExportApi(APIView):
    content_negotiation_class = _JsonFirst

    @extend_schema(
        tags=_TAGS,
        summary="Export the transactions as StockSense CSV",
        description="Streamed; importing the file into an empty portfolio recreates them.",
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            404: OpenApiResponse(description="No such portfolio, or not yours."),
        },
    )
    def get(self, request: Request, portfolio_id: int) -> StreamingHttpResponse:
        portfolio = _owned(request, portfolio_id)
        return exports.transactions_csv_response(
            portfolio=portfolio, today=timezone.localdate(timezone=imports.IST)
        )

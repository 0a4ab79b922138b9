"""REST endpoints for the signed-in user: profile, API tokens, audit log, WebSocket tickets."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from allauth.mfa.models import Authenticator
from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from apps.accounts import selectors, services
from apps.accounts.models import AuditAction
from apps.accounts.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateInputSerializer,
    ApiTokenOutputSerializer,
    AuditEventOutputSerializer,
    MeOutputSerializer,
    MeUpdateInputSerializer,
    TokenLoginInputSerializer,
    WsTicketOutputSerializer,
)
from apps.accounts.tickets import TICKET_TTL_SECONDS, ws_ticket_issue


class MeApi(APIView):
    @extend_schema(responses=MeOutputSerializer, summary="The signed-in user")
    def get(self, request: Request) -> Response:
        return Response(MeOutputSerializer(request.user).data)

    @extend_schema(
        request=MeUpdateInputSerializer,
        responses=MeOutputSerializer,
        summary="Update profile fields",
    )
    def patch(self, request: Request) -> Response:
        serializer = MeUpdateInputSerializer(
            data=request.data, context={"user": request.user}, partial=True
        )
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(
            user=request.user,  # type: ignore[arg-type]
            data=serializer.validated_data,
            request=request._request,
        )
        return Response(MeOutputSerializer(user).data)


class TokenLoginThrottle(AnonRateThrottle):
    scope = "token_login"
    rate = "10/minute"


class TokenLoginApi(APIView):
    """Exchange e-mail, password (and a two-factor code) for an API token."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (TokenLoginThrottle,)

    def get_authenticate_header(self, request: Request) -> str:
        # Makes failed sign-ins 401 (not 403) although this view authenticates nobody.
        return 'Bearer realm="api"'

    @extend_schema(
        request=TokenLoginInputSerializer,
        responses={201: ApiTokenCreatedSerializer},
        summary="Sign in a mobile client",
    )
    def post(self, request: Request) -> Response:
        serializer = TokenLoginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        email = data["email"].lower()
        django_request = request._request
        # Shares allauth's failed-login limits with the web login form.
        if not ratelimit.consume(django_request, action="login_failed", key=email, dry_run=True):
            raise Throttled(detail=_("Too many failed sign-in attempts. Try again later."))

        user = authenticate(django_request, email=email, password=data["password"])
        if user is None:
            ratelimit.consume(django_request, action="login_failed", key=email)
            raise AuthenticationFailed(_("The e-mail address or password is not correct."))
        if not EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
            raise AuthenticationFailed(_("Verify your e-mail address before signing in."))
        if not self._second_factor_ok(user, data.get("code") or ""):
            ratelimit.consume(django_request, action="login_failed", key=email)
            services.audit_record(
                action=AuditAction.LOGIN_FAILED,
                user=user,
                request=django_request,
                actor_email=email,
                new={"email": email, "reason": "mfa"},
            )
            raise AuthenticationFailed(
                _("A valid authenticator or recovery code is required."), code="mfa_required"
            )

        token, raw = services.api_token_create(
            user=user, name=data["name"], request=django_request
        )
        services.audit_record(action=AuditAction.LOGIN, user=user, request=django_request,
                              new={"via": "api_token"})
        body = ApiTokenOutputSerializer(token).data | {"token": raw}
        return Response(body, status=status.HTTP_201_CREATED)

    @staticmethod
    def _second_factor_ok(user: object, code: str) -> bool:
        authenticators = list(Authenticator.objects.filter(user=user))
        if not any(a.type == Authenticator.Type.TOTP for a in authenticators):
            return True
        code = code.replace(" ", "")
        for authenticator in authenticators:
            usable = authenticator.type in (
                Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES
            )
            if usable and code and authenticator.wrap().validate_code(code):
                authenticator.record_usage()
                return True
        return False


class ApiTokenListCreateApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = ApiTokenOutputSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.api_token_list(user=self.request.user)  # type: ignore[arg-type]

    @extend_schema(
        request=ApiTokenCreateInputSerializer,
        responses={201: ApiTokenCreatedSerializer},
        summary="Create an API token",
    )
    def post(self, request: Request) -> Response:
        serializer = ApiTokenCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw = services.api_token_create(
            user=request.user,  # type: ignore[arg-type]
            name=serializer.validated_data["name"],
            request=request._request,
        )
        body = ApiTokenOutputSerializer(token).data | {"token": raw}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiTokenRevokeApi(APIView):
    @extend_schema(responses={204: None}, summary="Revoke an API token")
    def delete(self, request: Request, token_id: int) -> Response:
        token = get_object_or_404(selectors.api_token_list(user=request.user), pk=token_id)  # type: ignore[arg-type]
        services.api_token_revoke(token=token, by=request.user, request=request._request)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEventListApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = AuditEventOutputSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.audit_event_list(user=self.request.user)  # type: ignore[arg-type]


class WsTicketApi(APIView):
    @extend_schema(request=None, responses={201: WsTicketOutputSerializer},
                   summary="A single-use ticket for opening a WebSocket")
    def post(self, request: Request) -> Response:
        ticket = ws_ticket_issue(user=request.user)  # type: ignore[arg-type]
        return Response(
            {"ticket": ticket, "expires_in": TICKET_TTL_SECONDS}, status=status.HTTP_201_CREATED
        )

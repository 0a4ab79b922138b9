"""Account pages: profile, phone number, API tokens, security activity."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts import selectors, services
from apps.accounts.forms import ApiTokenForm, PhoneForm, ProfileForm


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            services.user_update_profile(user=user, data=form.cleaned_data, request=request)  # type: ignore[arg-type]
            messages.success(request, _("Profile saved."))
            response = redirect("profile")
            # Saving a language switches the interface to it right away.
            response.set_cookie("django_language", form.cleaned_data["language"], samesite="Lax")
            translation.activate(form.cleaned_data["language"])
            return response
    else:
        form = ProfileForm(
            initial={
                "display_name": user.display_name,  # type: ignore[union-attr]
                "time_zone": user.time_zone,  # type: ignore[union-attr]
                "language": user.language,  # type: ignore[union-attr]
            }
        )
    return render(request, "accounts/profile.html", {"form": form})


@login_required
@reauthentication_required
def phone(request: HttpRequest) -> HttpResponse:
    """Changing the phone number (used for SMS alerts) asks for the password again."""
    if request.method == "POST":
        form = PhoneForm(request.POST)
        if form.is_valid():
            services.user_update_profile(
                user=request.user,  # type: ignore[arg-type]
                data={"phone": form.cleaned_data["phone"]},
                request=request,
            )
            messages.success(request, _("Phone number saved."))
            return redirect("profile")
    else:
        form = PhoneForm(initial={"phone": request.user.phone})  # type: ignore[union-attr]
    return render(request, "accounts/phone.html", {"form": form})


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    new_token = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            _token, new_token = services.api_token_create(
                user=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                request=request,
            )
            form = ApiTokenForm()
    else:
        form = ApiTokenForm()
    token_list = selectors.api_token_list(user=request.user)  # type: ignore[arg-type]
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": token_list, "new_token": new_token},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(selectors.api_token_list(user=request.user), pk=token_id)  # type: ignore[arg-type]
    services.api_token_revoke(token=token, by=request.user, request=request)  # type: ignore[arg-type]
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("tokens")


@login_required
def activity(request: HttpRequest) -> HttpResponse:
    events = selectors.audit_event_list(user=request.user)  # type: ignore[arg-type]
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/activity.html", {"page": page})

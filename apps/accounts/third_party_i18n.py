"""Third-party strings our Hindi catalogue translates: django-allauth's and Django's.

django-allauth 65.x ships no Hindi (`hi`) catalogue, and Django's Hindi catalogue leaves
the password-validator texts untranslated, so the sign-in, sign-up, e-mail, password,
two-factor and session pages would stay partly English for Hindi users. This module
lists, verbatim, the msgids those pages, their messages, forms and e-mails use (e-mail
log-in, TOTP and recovery codes, user sessions, password rules), so that
`manage.py makemessages` copies them into locale/hi/LC_MESSAGES/django.po, where they
are translated. Catalogues in LOCALE_PATHS take precedence over app catalogues, so the
libraries' own `{% trans %}` / `gettext` look-ups find our Hindi.

Nothing imports this module; it exists only to be read by makemessages. After
upgrading allauth or Django, compare their strings with these lists (a msgid that
changed upstream simply falls back to English).
"""

from django.utils.translation import gettext_noop as _
from django.utils.translation import ngettext_lazy

ALLAUTH_MESSAGES = [
    _("This account is currently inactive."),
    _("You cannot remove your primary email address."),
    _("This email address is already associated with this account."),
    _("The email address and/or password you specified are not correct."),
    _("A user is already registered with this email address."),
    _("Please type your current password."),
    _("Incorrect code."),
    _("Incorrect password."),
    _("Invalid or expired key."),
    _("Invalid login."),
    _("The password reset token was invalid."),
    _("You cannot add more than %d email addresses."),
    _("Too many failed login attempts. Try again later."),
    _("The email address is not assigned to any user account."),
    _("Your primary email address must be verified."),
    _("Please select only one."),
    _("The new value must be different from the current one."),
    _("Be patient, you are sending too many requests."),
    _("Use your password"),
    _("Use authenticator app or code"),
    _("You must type the same password each time."),
    _("Password"),
    _("Remember Me"),
    _("Email address"),
    _("Forgot your password?"),
    _("Email (again)"),
    _("Email address confirmation"),
    _("Email"),
    _("Email (optional)"),
    _("You must type the same email each time."),
    _("Password (again)"),
    _("Current Password"),
    _("New Password"),
    _("New Password (again)"),
    _("Code"),
    _("You cannot add an email address to an account protected by two-factor authentication."),
    _("You cannot deactivate two-factor authentication."),
    _("You cannot generate recovery codes without having two-factor authentication enabled."),
    _("You cannot activate two-factor authentication until you have verified your email address."),
    _("Authenticator code"),
    _("Account Inactive"),
    _("This account is inactive."),
    _("Confirm Access"),
    _("Please reauthenticate to safeguard your account."),
    _("Alternative options"),
    _("Email Addresses"),
    _("The following email addresses are associated with your account:"),
    _("Verified"),
    _("Unverified"),
    _("Primary"),
    _("Make Primary"),
    _("Re-send Verification"),
    _("Remove"),
    _("Add Email Address"),
    _("Add Email"),
    _("Do you really want to remove the selected email address?"),
    _(
        "You are receiving this email because you or someone else tried to "
        "signup for an\naccount using email address:\n\n%(email)s\n\nHowever, "
        "an account using that email address already exists.  In case you "
        "have\nforgotten about this, please use the password forgotten "
        "procedure to recover\nyour account:\n\n%(password_reset_url)s"
    ),
    _("Account Already Exists"),
    _("Hello from %(site_name)s!"),
    _("Thank you for using %(site_name)s!\n%(site_domain)s"),
    _("You are receiving this mail because the following change was made to your account:"),
    _(
        "If you do not recognize this change then please take proper security "
        "precautions immediately. The change to your account originates "
        "from:\n\n- IP address: %(ip)s\n- Browser: %(user_agent)s\n- Date: "
        "%(timestamp)s"
    ),
    _(
        "You're receiving this email because user %(user_display)s has given "
        "your email address to register an account on %(site_domain)s."
    ),
    _("Your email verification code is listed below. Please enter it in your open browser window."),
    _("To confirm this is correct, go to %(activate_url)s"),
    _("Please Confirm Your Email Address"),
    _("Your password has been changed."),
    _("Password Changed"),
    _(
        "You're receiving this email because you or someone else has requested "
        "a password reset for your user account.\nIt can be safely ignored if "
        "you did not request a password reset. Click the link below to reset "
        "your password."
    ),
    _("Password Reset Email"),
    _("Your password has been reset."),
    _("Password Reset"),
    _(
        "You are receiving this email because you, or someone else, tried to "
        "access an account with email %(email)s. However, we do not have any "
        "record of such an account in our database."
    ),
    _("This mail can be safely ignored if you did not initiate this action."),
    _("If it was you, you can sign up for an account using the link below."),
    _("Unknown Account"),
    _("Confirm Email Address"),
    _(
        'Please confirm that <a href="mailto:%(email)s">%(email)s</a> is an '
        "email address for user %(user_display)s."
    ),
    _("Confirm"),
    _("Unable to confirm %(email)s because it is already confirmed by a different account."),
    _(
        "This email confirmation link expired or is invalid. Please <a "
        'href="%(email_url)s">issue a new email confirmation request</a>.'
    ),
    _("Sign In"),
    _("If you have not created an account yet, then please %(link)ssign up%(end_link)s first."),
    _("Sign Out"),
    _("Are you sure you want to sign out?"),
    _("You cannot remove your primary email address (%(email)s)."),
    _("Confirmation email sent to %(email)s."),
    _("You have confirmed %(email)s."),
    _("Removed email address %(email)s."),
    _("Successfully signed in as %(name)s."),
    _("You have signed out."),
    _("Password successfully changed."),
    _("Password successfully set."),
    _("Primary email address set."),
    _("Change Password"),
    _(
        "Forgotten your password? Enter your email address below, and we'll "
        "send you an email allowing you to reset it."
    ),
    _("Reset My Password"),
    _("Please contact us if you have any trouble resetting your password."),
    _(
        "We have sent you an email. If you have not received it please check "
        "your spam folder. Otherwise contact us if you do not receive it in a "
        "few minutes."
    ),
    _("Bad Token"),
    _(
        "The password reset link was invalid, possibly because it has already "
        'been used.  Please request a <a href="%(passwd_reset_url)s">new '
        "password reset</a>."
    ),
    _("Cancel"),
    _("Your password is now changed."),
    _("Set Password"),
    _("Enter your password:"),
    _("Signup"),
    _("Sign Up"),
    _("Already have an account? Then please %(link)ssign in%(end_link)s."),
    _("Sign Up Closed"),
    _("We are sorry, but the sign up is currently closed."),
    _("Note"),
    _("You are already logged in as %(user_display)s."),
    _("Verify Your Email Address"),
    _(
        "We have sent an email to you for verification. Follow the link "
        "provided to finalize the signup process. If you do not see the "
        "verification email in your main inbox, check your spam folder. Please "
        "contact us if you do not receive the verification email within a few "
        "minutes."
    ),
    _(
        "This part of the site requires us to verify that\nyou are who you "
        "claim to be. For this purpose, we require that you\nverify ownership "
        "of your email address. "
    ),
    _(
        "We have sent an email to you for\nverification. Please click on the "
        "link inside that email. If you do not see the verification email in "
        "your main inbox, check your spam folder. Otherwise\ncontact us if you "
        "do not receive it within a few minutes."
    ),
    _(
        '<strong>Note:</strong> you can still <a href="%(email_url)s">change '
        "your email address</a>."
    ),
    _("Two-Factor Authentication"),
    _(
        "Your account is protected by two-factor authentication. Please enter "
        "an authenticator code:"
    ),
    _("A new set of Two-Factor Authentication recovery codes has been generated."),
    _("New Recovery Codes Generated"),
    _("Authenticator app activated."),
    _("Authenticator App Activated"),
    _("Authenticator app deactivated."),
    _("Authenticator App Deactivated"),
    _("Authenticator App"),
    _("Authentication using an authenticator app is active."),
    _("An authenticator app is not active."),
    _("Deactivate"),
    _("Activate"),
    _("Manage"),
    _("Add"),
    _("Recovery Codes"),
    ngettext_lazy(
        "There is %(unused_count)s out of %(total_count)s recovery codes available.",
        "There are %(unused_count)s out of %(total_count)s recovery codes available.",
    ),
    _("No recovery codes set up."),
    _("View"),
    _("Download"),
    _("Generate"),
    _("A new set of recovery codes has been generated."),
    _("Save them  in a secure location now — they won't be shown again."),
    _("Enter an authenticator code:"),
    _("You are about to generate a new set of recovery codes for your account."),
    _("This action will invalidate your existing codes."),
    _("Are you sure?"),
    _("Unused codes"),
    _("Download codes"),
    _("Generate new codes"),
    _("I have saved my recovery codes"),
    _("Activate Authenticator App"),
    _(
        "To protect your account with two-factor authentication, scan the QR "
        "code below with your authenticator app. Then, input the verification "
        "code generated by the app below."
    ),
    _("Authenticator secret"),
    _("You can store this secret and use it to reinstall your authenticator app at a later time."),
    _("Deactivate Authenticator App"),
    _("You are about to deactivate authenticator app based authentication. Are you sure?"),
    _("Signed out of all other sessions."),
    _("Sessions"),
    _("Started At"),
    _("IP Address"),
    _("Browser"),
    _("Last seen at"),
    _("Current"),
    _("Sign Out Other Sessions"),
]

# django.contrib.auth.password_validation (help texts shown on sign-up, and errors).
DJANGO_MESSAGES = [
    _("Your password can’t be too similar to your other personal information."),
    _("Your password can’t be a commonly used password."),
    _("Your password can’t be entirely numeric."),
    _("The password is too similar to the %(verbose_name)s."),
    _("This password is too common."),
    _("This password is entirely numeric."),
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
    ),
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
    ),
]

"""What can go wrong with an introduction, each with words for the page that shows it."""

from django.utils.translation import gettext_lazy as _


class IntroductionError(Exception):
    message = _("That is not possible now: the introduction has moved on.")


class NotAvailable(IntroductionError):
    message = _("That volunteer cannot take this introduction now (paused, full, or no longer a fit).")


class AlreadyOpen(IntroductionError):
    message = _("An introduction for this request is already open: end it first.")


class LinkUnusable(IntroductionError):
    message = _("This link no longer works. Your worker can arrange another introduction.")


class ChannelUnusable(IntroductionError):
    message = _("They cannot be reached that way: choose a way they consented to and that works.")


class EmailInUse(Exception):
    """A new volunteer's e-mail address already belongs to an account: nothing was created."""

    message = _(
        "This e-mail address already has an account here. If they are already a volunteer, they "
        "are in the list below; otherwise ask them for another address."
    )

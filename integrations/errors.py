"""Errors every integration raises instead of its SDK's: the message says what is wrong and the fix."""

from core.errors import UserFacingError


class IntegrationError(UserFacingError):
    """A service could not do what was asked; str(error) is safe to log (no secrets).

    Most such errors need the user to fix something (a path, a permission), so retrying will not
    help; errors that may heal by themselves (a timeout, a 5xx) set transient.
    """

    transient: bool = False

    def __init__(self, *args: object, transient: bool | None = None) -> None:
        super().__init__(*args)
        if transient is not None:  # else the class's default
            self.transient = transient


class SourceError(IntegrationError):
    pass


class SheetError(IntegrationError):
    pass


class AnalyserError(IntegrationError):
    pass


class AnalyserQuotaExhausted(AnalyserError):
    """The model's daily request quota is spent: nothing will succeed before it resets."""


class PublishError(IntegrationError):
    pass

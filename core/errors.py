"""The one mark of an error the user can fix."""


class UserFacingError(Exception):
    """Bad input or configuration, or a service refusing: str(error) names the problem and the fix and is safe to
    show (no secrets). Logs show such an error as its message, without a traceback: it is not a bug."""

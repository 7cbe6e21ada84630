"""The one error a user can act on: raised anywhere, printed by a stage as one line
(``lessmore: error: ...``, exit code 2), never as a traceback."""


class UserError(RuntimeError):
    """A problem the user can fix (a missing file, a bad option). Printed as one line."""

"""Errors a user can cause and fix; interfaces show their message instead of a traceback."""


class SovragError(Exception):
    """A user-facing error: the message says what went wrong and what to do."""


class ModelError(SovragError):
    """A model could not be resolved, assembled or verified."""


class IndexMissingError(SovragError):
    """No index generation exists at the configured location."""


class IndexMismatchError(SovragError):
    """The index was built with another embedder than the configured one."""

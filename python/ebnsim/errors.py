"""The exceptions ebnsim raises, with the library's own messages (file, field, expectation).

Each derives from :class:`EbnsimError` and from the built-in exception a Python user would catch
for it, so ``except ValueError`` keeps working for bad parameters.
"""


class EbnsimError(Exception):
    """Base class of every ebnsim error."""


class ModelError(EbnsimError, ValueError):
    """A model or weights file that cannot be read or is invalid (names the file and field)."""


class BuildError(EbnsimError, ValueError):
    """Parameters that cannot make a network, input or simulation (names the field)."""


class SimulationError(EbnsimError, RuntimeError):
    """A run that stopped: a same-instant cascade past its limit, a time in the past, ..."""


class OutputError(EbnsimError, OSError):
    """An output that could not be written."""


__all__ = ["EbnsimError", "ModelError", "BuildError", "SimulationError", "OutputError"]

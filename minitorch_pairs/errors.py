"""The framework's own exception classes, where torch's class alone would lose information."""


class ShapeError(RuntimeError, ValueError):
    """A shape, size or dtype mismatch, or dims that do not fit a shape (a dim listed twice):
    a RuntimeError, as torch raises; also a ValueError, which this framework raised before,
    so callers catching either keep working."""

"""The reference commerce service: the system under test that every Assay suite exercises."""

__version__ = "0.1.0"

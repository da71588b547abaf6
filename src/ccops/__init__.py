"""ccops: declarative lifecycle operations for call-centre terminals and servers."""

__version__ = "0.1.0"

"""emay-mock: a local test double of the Emay (亿美软通) SMS platform."""

__version__ = "0.1.0"

"""Local development: `make run`. DEBUG on unless told otherwise."""

from config.env import env_bool

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
MARKET_SIMULATED_ALWAYS_OPEN = env_bool("MARKET_SIMULATED_ALWAYS_OPEN", True)

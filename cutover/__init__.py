"""Cutover automation for merged provinces' DNS, mail, portal and video systems."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("province-cutover")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+src"

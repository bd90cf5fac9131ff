"""A merger's inventory: hosts, groups and service data per environment, validated."""

from cutover.inventory.loader import find_merger_dir, load
from cutover.inventory.resolved import Inventory

__all__ = ["Inventory", "find_merger_dir", "load"]

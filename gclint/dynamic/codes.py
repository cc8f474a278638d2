"""Codes for dynamic-mode evidence that no static finding explains."""
from typing import Dict

from gclint.model import RuleInfo

# Filled in by the dynamic-mode package as its reporters land.
DYNAMIC_CODES: Dict[str, RuleInfo] = {}

"""Cutover plans: the YAML model, loading with line numbers, validation and the graph."""

from cutover.plan.model import Plan, Step
from cutover.plan.validate import LoadedPlan, load_plan


def json_schema() -> dict[str, object]:
    """The plan file's JSON Schema (for editors: yaml-language-server, VS Code)."""
    schema = Plan.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cutover plan"
    return schema


__all__ = ["LoadedPlan", "Plan", "Step", "json_schema", "load_plan"]

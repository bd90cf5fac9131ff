"""The Pulumi program of the merged infrastructure (see Pulumi.yaml for config keys)."""

import pulumi

config = pulumi.Config("cutover")
pulumi.export("merger", config.get("merger") or "")

//go:build tools

// Package tools pins the (legacy, in-sdk) Python language host.
package tools

import (
	_ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"
)

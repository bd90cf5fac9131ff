//go:build tools

// Package tools pins the Pulumi CLI (and language hosts) as Go module
// requirements so that `go mod tidy` keeps them.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)

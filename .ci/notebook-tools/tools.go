//go:build tools

// Package tools pins the GoNB kernel the notebooks run on. .ci/install-notebooks.sh builds
// it from this module ("go install" inside it), because "go install
// github.com/janpfeifer/gonb@v0.11.4" also asks the module proxy for GoNB's version list
// (to check for a deprecation), which the proxy reachable here refuses.
package tools

import _ "github.com/janpfeifer/gonb"

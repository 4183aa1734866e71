#!/usr/bin/env bash
# Installs what the notebooks and their test (notebooks/notebooks_test.go) need: Debian's
# Jupyter (nbconvert, jupyter-client, ipykernel, notebook), goimports and gopls, and the GoNB
# kernel v0.11.4, registered where /usr/bin/jupyter finds it (~/.local/share/jupyter/kernels).
# Idempotent: each step is skipped or cheap when already done. Fails loudly on any error.
#
# Go binaries land in $(go env GOPATH)/bin; the notebooks test adds that folder to PATH itself,
# other callers should too. Set FORTUNE_NOTEBOOKS_NO_GOPLS=1 to skip gopls (only editors'
# completion uses it; it takes minutes to build): the kernel is then registered with
# --force_deps.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gobin="$(go env GOBIN)"
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

GOIMPORTS_VERSION=v0.52.0 # golang.org/x/tools
GOPLS_VERSION=v0.23.0     # the newest that builds with Go 1.26
GONB_VERSION=v0.11.4      # v0.11.3 does not fail a cell on a panic; pinned in notebook-tools/go.mod

# 1. Jupyter from Debian (the PATH python3 may be a pyenv shim: use /usr/bin/jupyter's world).
pkgs=(jupyter-nbconvert jupyter-client python3-ipykernel python3-notebook)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-notebooks: apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
jupyter=/usr/bin/jupyter
"$jupyter" nbconvert --version >/dev/null

# 2. goimports (GoNB runs it on every cell) and gopls.
go install "golang.org/x/tools/cmd/goimports@$GOIMPORTS_VERSION"
force_deps=()
if [ "${FORTUNE_NOTEBOOKS_NO_GOPLS:-}" = 1 ]; then
	force_deps=(--force_deps)
elif ! gopls version 2>/dev/null | grep -q "$GOPLS_VERSION"; then
	echo "install-notebooks: building gopls $GOPLS_VERSION (a few minutes)"
	go install "golang.org/x/tools/gopls@$GOPLS_VERSION"
fi

# 3. GoNB, built from the pinned tools module (go install gonb@version would also query the
#    module proxy's version list, which is refused here).
grep -q "github.com/janpfeifer/gonb $GONB_VERSION" "$here/notebook-tools/go.mod"
(cd "$here/notebook-tools" && go install github.com/janpfeifer/gonb)

# 4. Register the kernel for the current user and check that /usr/bin/jupyter sees it.
gonb --install "${force_deps[@]}"
if ! "$jupyter" kernelspec list 2>/dev/null | grep -q '^ *gonb '; then
	echo "install-notebooks: the gonb kernel is not visible to $jupyter" >&2
	"$jupyter" kernelspec list >&2
	exit 1
fi
echo "install-notebooks: ok (gonb $GONB_VERSION, $("$jupyter" nbconvert --version 2>/dev/null | tail -1) nbconvert, binaries in $gobin)"

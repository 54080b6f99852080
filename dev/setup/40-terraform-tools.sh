#!/usr/bin/env bash
# OpenTofu for validating terraform/, built from the Go module proxy and cached by version:
#   $KG_CACHE/tofu/<version>/tofu          the CLI (first build ~10 min on 2 cores, then seconds)
#   $KG_CACHE/tofu/tofurc                  CLI config: providers only from the filesystem mirror (offline)
#   $KG_CACHE/tf-mirror/<host>/<ns>/<type>/<version>/linux_amd64/terraform-provider-<type>_v<version>
#
# `go install github.com/opentofu/opentofu/cmd/tofu@vX` is refused because OpenTofu's go.mod has a
# replace directive; dev/terraform/tofu is a wrapper module that repeats it (go.mod + go.sum pinned).
#
# Providers: the Go module proxy does not serve the hashicorp/google and hashicorp/archive provider
# modules themselves (only their dependencies), so the real binaries are built from their public
# source beside the project (docs/deployment.md, "Running against the real providers"). A binary
# built so is put in the mirror with
#   KG_TF_PROVIDER_BINS="google=/path/terraform-provider-google_v7.45.0 archive=/path/..."
# (the version is read from the file name); test/integration/terraform/validate-with-providers.ts
# then runs tofu init/validate/test against it, and dev/terraform/provider-schema.ts takes the
# stand-ins' schema from it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
KG_CACHE="${KG_CACHE:-$HOME/.cache/kernel-gossip}"
wrapper="$root/dev/terraform/tofu"
version="$(sed -n 's#^require github.com/opentofu/opentofu \(v[0-9][0-9.]*\)$#\1#p' "$wrapper/go.mod")"
if [ -z "$version" ]; then
  echo "cannot read the OpenTofu version from $wrapper/go.mod" >&2
  exit 1
fi
bin="$KG_CACHE/tofu/$version/tofu"
mirror="$KG_CACHE/tf-mirror"
mkdir -p "$mirror" "$KG_CACHE/tofu"
# Replaces a file only when its content changes, by rename: tests running meanwhile never read half a file.
write_file() {
  local file="$1" content
  content="$(cat)"
  if [ -f "$file" ] && [ "$(cat "$file")" = "$content" ]; then
    return 0
  fi
  printf '%s\n' "$content" >"$file.tmp.$$"
  mv "$file.tmp.$$" "$file"
}
write_file "$KG_CACHE/tofu/tofurc" <<RC
# Written by dev/setup/40-terraform-tools.sh: providers come only from the local mirror.
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.opentofu.org/*/*", "registry.terraform.io/*/*"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$KG_CACHE/tofu/tofurc"

# (Read the whole output first: grep -q closing the pipe early would fail the pipeline under pipefail.)
installed="$([ -x "$bin" ] && "$bin" version 2>/dev/null || true)"
if printf '%s\n' "$installed" | grep -qx "OpenTofu ${version}"; then
  echo "tofu ${version}: cached at $bin"
else
  command -v go >/dev/null || { echo "go is required to build OpenTofu" >&2; exit 1; }
  echo "tofu ${version}: building from the Go module proxy (about 10 minutes on 2 cores)"
  mkdir -p "$(dirname "$bin")"
  # Build to a temporary name and rename, so an interrupted build never leaves a broken cache entry.
  trap 'rm -f "$bin.tmp.$$"' EXIT
  (cd "$wrapper" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -trimpath \
    -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
    -o "$bin.tmp.$$" github.com/opentofu/opentofu/cmd/tofu)
  mv "$bin.tmp.$$" "$bin"
  trap - EXIT
  built="$("$bin" version)"
  echo "${built%%$'\n'*}"
fi

for entry in ${KG_TF_PROVIDER_BINS:-}; do
  type="${entry%%=*}"
  file="${entry#*=}"
  pversion="$(basename "$file" | sed -n 's/^terraform-provider-[a-z0-9-]*_v\([0-9][0-9.]*\)$/\1/p')"
  if [ -z "$pversion" ] || [ ! -x "$file" ]; then
    echo "KG_TF_PROVIDER_BINS: $file must be an executable named terraform-provider-<type>_v<version>" >&2
    exit 1
  fi
  for host in registry.opentofu.org registry.terraform.io; do
    dest="$mirror/$host/hashicorp/$type/$pversion/linux_amd64"
    mkdir -p "$dest"
    cp "$file" "$dest/"
  done
  echo "provider hashicorp/$type $pversion: in the mirror"
done

found="$(cd "$mirror" && find . -name 'terraform-provider-*' -type f | sed 's#^\./##' | sort)"
echo "tofu CLI config: $KG_CACHE/tofu/tofurc; providers in the mirror: ${found:-none}"

# Schema-only stand-ins for hashicorp/google and hashicorp/archive (dev/terraform/schema-provider):
# they serve the schema the real providers print with `tofu providers schema -json`, trimmed to the
# types terraform/ uses (test/unit/terraform/fixtures/provider-schemas.json, made by
# dev/terraform/provider-schema.ts), so that `tofu validate` and `tofu test` with mock_provider run
# here. Kept in a mirror of their own so that they are never mistaken for the real providers, one
# per content of the stand-in and the schema ($KG_CACHE/schema-standin/<key>/mirror, CLI config
# .../tofurc): worktrees with different schemas never replace each other's, and a mirror that
# exists is never rewritten while tests read it. dev/terraform/cli.ts computes the same key.
standin_src="$root/dev/terraform/schema-provider"
schemas="$root/test/unit/terraform/fixtures/provider-schemas.json"
standin_key="$(cat "$standin_src/go.mod" "$standin_src/go.sum" "$standin_src/main.go" | sha256sum | cut -c1-16)"
standin_bin="$KG_CACHE/schema-provider/$standin_key/schema-provider"
if [ -x "$standin_bin" ]; then
  echo "schema stand-in provider: cached at $standin_bin"
else
  echo "schema stand-in provider: building (about a minute)"
  mkdir -p "$(dirname "$standin_bin")"
  trap 'rm -f "$standin_bin.tmp.$$"' EXIT
  (cd "$standin_src" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -trimpath -ldflags "-s -w" -o "$standin_bin.tmp.$$" .)
  mv "$standin_bin.tmp.$$" "$standin_bin"
  trap - EXIT
fi
mirror_key="$(cat "$standin_src/go.mod" "$standin_src/go.sum" "$standin_src/main.go" "$schemas" | sha256sum | cut -c1-16)"
standin_dir="$KG_CACHE/schema-standin/$mirror_key"
versions="$(node -e '
  const file = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(Object.entries(file.generated.providers).map(([address, p]) => `${address.split("/").pop()}=${p.version}`).join(" "));' "$schemas")"
if [ ! -f "$standin_dir/tofurc" ]; then
  # Built in a temporary folder renamed at the end: a reader sees all of it or nothing.
  staging="$KG_CACHE/schema-standin/.tmp.$mirror_key.$$"
  rm -rf "$staging"
  for entry in $versions; do
    type="${entry%%=*}"
    pversion="${entry#*=}"
    dest="$staging/mirror/registry.opentofu.org/hashicorp/$type/$pversion/linux_amd64"
    mkdir -p "$dest"
    cp "$standin_bin" "$dest/terraform-provider-${type}_v$pversion"
    cp "$schemas" "$dest/schemas.json"
  done
  cat >"$staging/tofurc" <<RC
# Written by dev/setup/40-terraform-tools.sh: SCHEMA-ONLY STAND-IN providers, for tofu validate/test.
provider_installation {
  filesystem_mirror {
    path    = "$standin_dir/mirror"
    include = ["registry.opentofu.org/*/*"]
  }
}
RC
  if ! mv -T "$staging" "$standin_dir" 2>/dev/null; then
    # Another run made the same mirror meanwhile; its content is the same.
    rm -rf "$staging"
  fi
fi
echo "schema stand-ins in $standin_dir: $versions (CLI config $standin_dir/tofurc)"

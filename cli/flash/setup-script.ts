// The first-boot script that turns a fresh Pi into a pikube node: Node.js, containerd
// + nerdctl + CNI plugins, pikube itself, the memory cgroup, and the agent service.
// cloud-init (Trixie, Ubuntu) runs it from runcmd; on Bookworm a one-shot unit that
// firstrun.sh installs runs it once the network is up. Every download is checked
// against its published SHA-256 sums.

export interface SetupOptions {
  nodeName: string;
  /** nerdctl release; the "full" bundle (containerd, runc, CNI) exists for arm64 only. */
  nerdctlVersion: string;
  /** Node.js major used when the distribution's nodejs is older than 20. */
  nodeMajor: number;
  /** npm package spec of pikube: a name, name@version, a tarball path or URL. */
  pikubePackage: string;
}

export const SETUP_SCRIPT_PATH = '/usr/local/sbin/pikube-setup';
export const REBOOT_MARKER = '/run/pikube-reboot-required';
export const MEMORY_CGROUP_PARAMETERS = 'cgroup_enable=memory cgroup_memory=1';

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function assertNerdctlVersion(value: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(value)) throw new Error(`nerdctl version "${value}" must look like 2.2.0`);
  return value;
}

export function assertPackageSpec(value: string): string {
  if (!/^[A-Za-z0-9@/._:~+=-]+$/.test(value)) throw new Error(`pikube package "${value}" must be an npm spec without spaces or quotes`);
  return value;
}

export function renderSetupScript(options: SetupOptions): string {
  return `#!/bin/bash
# pikube-setup: first-boot installation of the pikube agent on ${options.nodeName}.
# Written by \`pikube flash-config\`. Safe to run again: each step checks first.
# PIKUBE_SETUP_SOURCE_ONLY=1 loads the functions without running anything.
set -euo pipefail

NERDCTL_VERSION=${shellQuote(options.nerdctlVersion)}
NODE_MAJOR=${shellQuote(String(options.nodeMajor))}
PIKUBE_PACKAGE=${shellQuote(options.pikubePackage)}
ENV_FILE=/etc/default/pikube-agent
REBOOT_MARKER="\${PIKUBE_REBOOT_MARKER:-${REBOOT_MARKER}}"
MEMORY_CGROUP=${shellQuote(MEMORY_CGROUP_PARAMETERS)}

log() { echo "pikube-setup: $*"; }
die() { echo "pikube-setup: error: $*" >&2; exit 1; }

node_major() {
  if command -v "\${1:-node}" >/dev/null 2>&1; then "\${1:-node}" -p 'process.versions.node.split(".")[0]'; else echo 0; fi
}

# download_checked BASE_URL FILE SUMS_FILE DIR: fetches BASE_URL/FILE into DIR and
# checks it against BASE_URL/SUMS_FILE.
download_checked() {
  curl -fsSL --retry 5 "$1/$3" -o "$4/$3"
  curl -fsSL --retry 5 "$1/$2" -o "$4/$2"
  (cd "$4" && grep " \\*\\?$2\\$" "$3" | sed 's/ \\*/  /' | sha256sum -c --quiet -) || die "checksum mismatch for $2"
}

install_node() {
  if [ "$(node_major /usr/bin/node)" -ge 20 ]; then log "Node.js $(/usr/bin/node --version) present"; return; fi
  local candidate
  candidate=$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}' | sed -e 's/^[0-9]*://' | cut -d. -f1)
  if [[ "$candidate" =~ ^[0-9]+$ ]] && [ "$candidate" -ge 20 ]; then
    log "installing the distribution's Node.js $candidate"
    apt-get install -y --no-install-recommends nodejs npm
  else
    install_node_release
  fi
  [ "$(node_major /usr/bin/node)" -ge 20 ] || die "/usr/bin/node is older than 20: remove the distribution's nodejs and run $0 again"
}

install_node_release() {
  local narch tmp file base="https://nodejs.org/dist/latest-v\${NODE_MAJOR}.x"
  case "$(dpkg --print-architecture)" in
    arm64) narch=arm64 ;; armhf) narch=armv7l ;; amd64) narch=x64 ;;
    *) die "no Node.js build for $(dpkg --print-architecture)" ;;
  esac
  tmp=$(mktemp -d)
  curl -fsSL --retry 5 "$base/SHASUMS256.txt" -o "$tmp/SHASUMS256.txt"
  file=$(grep -o "node-v[0-9.]*-linux-\${narch}\\.tar\\.xz" "$tmp/SHASUMS256.txt" | head -n 1)
  [ -n "$file" ] || die "no Node.js \${NODE_MAJOR} release for linux-\${narch}"
  log "installing $file into /usr/local"
  download_checked "$base" "$file" SHASUMS256.txt "$tmp"
  tar -xJf "$tmp/$file" -C /usr/local --strip-components=1 --no-same-owner
  rm -rf "$tmp"
  [ -e /usr/bin/node ] || ln -s /usr/local/bin/node /usr/bin/node
}

install_runtime() {
  if command -v nerdctl >/dev/null 2>&1; then log "nerdctl present"; return; fi
  local arch tmp file base="https://github.com/containerd/nerdctl/releases/download/v\${NERDCTL_VERSION}"
  arch=$(dpkg --print-architecture)
  tmp=$(mktemp -d)
  case "$arch" in
    arm64|amd64)
      # The full bundle: containerd, runc, CNI plugins, BuildKit, and their units.
      file="nerdctl-full-\${NERDCTL_VERSION}-linux-\${arch}.tar.gz"
      log "installing $file into /usr/local"
      download_checked "$base" "$file" SHA256SUMS "$tmp"
      tar -xzf "$tmp/$file" -C /usr/local --no-same-owner
      ;;
    armhf)
      # No full bundle for 32-bit ARM: the distribution's containerd and CNI plugins.
      apt-get install -y --no-install-recommends containerd containernetworking-plugins
      file="nerdctl-\${NERDCTL_VERSION}-linux-arm-v7.tar.gz"
      log "installing $file into /usr/local/bin"
      download_checked "$base" "$file" SHA256SUMS "$tmp"
      tar -xzf "$tmp/$file" -C /usr/local/bin --no-same-owner nerdctl
      mkdir -p /etc/nerdctl
      [ -f /etc/nerdctl/nerdctl.toml ] || echo 'cni_path = "/usr/lib/cni"' > /etc/nerdctl/nerdctl.toml
      ;;
    *) die "no nerdctl build for $arch" ;;
  esac
  rm -rf "$tmp"
  systemctl daemon-reload
  systemctl enable --now containerd.service
}

install_pikube() {
  log "installing $PIKUBE_PACKAGE with npm"
  npm install --global --omit=dev --no-audit --no-fund "$PIKUBE_PACKAGE"
  local main
  main="$(npm root --global)/pikube/dist/cli/main.js"
  [ -f "$main" ] || die "$main is missing after npm install"
  sed -i '/^PIKUBE_MAIN=/d' "$ENV_FILE"
  echo "PIKUBE_MAIN=$main" >> "$ENV_FILE"
}

# enable_memory_cgroup [CMDLINE]: the Pi kernel leaves the memory cgroup off unless
# cmdline.txt (one single line) asks for it; containers need it for memory limits.
enable_memory_cgroup() {
  local cmdline="\${1:-}" candidate
  if [ -z "$cmdline" ]; then
    for candidate in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
      if [ -f "$candidate" ]; then cmdline=$candidate; break; fi
    done
  fi
  if [ -z "$cmdline" ]; then log "no cmdline.txt found: add $MEMORY_CGROUP to the kernel command line"; return 0; fi
  if grep -Eq '(^|[[:space:]])cgroup_enable=memory([[:space:]]|$)' "$cmdline"; then
    log "$cmdline already enables the memory cgroup"
    return 0
  fi
  sed -i "1 s/[[:space:]]*\\$/ $MEMORY_CGROUP/" "$cmdline"
  touch "$REBOOT_MARKER"
  log "added $MEMORY_CGROUP to $cmdline: a reboot follows"
}

memory_cgroup_active() {
  grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null
}

main() {
  [ "$(id -u)" -eq 0 ] || die "run as root"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y --no-install-recommends curl ca-certificates iptables xz-utils
  install_node
  install_runtime
  install_pikube
  memory_cgroup_active || enable_memory_cgroup
  systemctl daemon-reload
  systemctl enable pikube-agent.service
  if [ -f "$REBOOT_MARKER" ]; then
    log "pikube-agent starts after the reboot"
  else
    systemctl restart pikube-agent.service
    log "pikube-agent started"
  fi
}

if [ "\${PIKUBE_SETUP_SOURCE_ONLY:-}" != 1 ]; then main "$@"; fi
`;
}

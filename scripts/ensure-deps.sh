#!/bin/sh
# ensure-deps.sh PKG...: make sure the Debian packages are installed.
# As root, installs the missing ones with apt-get; otherwise prints the exact
# command to run and fails.
set -u
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "vessel: missing Debian packages:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "vessel: run this as root, then make again:"
	echo "    apt-get update && apt-get install -y --no-install-recommends$missing"
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update && apt-get install -y --no-install-recommends $missing || exit 1
fi

# Shared by the in-guest test scripts (sourced, not run). They keep the TAP
# test number in $n.

# vessel_unavailable VESSEL: if the Vessel VMM cannot run here, print the TAP
# line that says why (a skip without /dev/kvm, a failure when the binary is
# missing), count it and return 0; otherwise return 1 and print nothing.
vessel_unavailable() {
	if [ ! -e /dev/kvm ]; then
		n=$((n + 1))
		echo "ok $n - vessel # SKIP no /dev/kvm"
	elif [ ! -x "$1" ]; then
		n=$((n + 1))
		echo "not ok $n - vessel: $1 not built"
	else
		return 1
	fi
}

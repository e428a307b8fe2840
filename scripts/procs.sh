# procs.sh — sourced by the test library and the demo: find and stop, by PID,
# the processes a run started, and sweep pam_wrapper's stale directories.
#
# A run marks every process it starts with an environment variable
# (CRTOKEN_TEST_RUN in the suites, CRTOKEN_DEMO_RUN in the demo); children
# inherit it, so a daemon that detached is found too — no ps or ss needed.

# marked_pids VAR : PIDs of the live processes whose environment holds
# VAR=<this shell's value of VAR>, this shell excepted. (Only grep runs while
# /proc is read, and without the mark.)
marked_pids() {
	eval "_mv=\${$1}"
	_l=$(env -u "$1" grep -lzxF "$1=$_mv" /proc/[0-9]*/environ 2>/dev/null)
	for _f in $_l; do
		_p=${_f#/proc/}
		_p=${_p%/environ}
		[ "$_p" = "$$" ] || echo "$_p"
	done
}

# stop_marked VAR [quiet] : TERM every process marked with VAR, then KILL what
# is left after 5 s. Names each one on stdout as a TAP comment unless quiet.
stop_marked() {
	_left=$(marked_pids "$1")
	[ -n "$_left" ] || return 0
	if [ "${2:-}" != quiet ]; then
		for _p in $_left; do
			echo "# stopping leftover process $_p: $(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null | cut -c1-120)"
		done
	fi
	# shellcheck disable=SC2086
	kill $_left 2>/dev/null
	_i=0
	while [ -n "$(marked_pids "$1")" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	_left=$(marked_pids "$1")
	# shellcheck disable=SC2086
	[ -z "$_left" ] || kill -9 $_left 2>/dev/null
	return 0
}

# pam_wrapper_sweep : pam_wrapper (cwrap) copies the PAM services of every
# process it is preloaded into to /tmp/pam.X (a fixed path) and removes it at
# a normal exit only: a process that is killed, or that execs (valgrind's
# launcher), leaves it behind. Remove ours whose process is gone — the rule
# pam_wrapper itself applies to stale directories.
pam_wrapper_sweep() {
	for _d in /tmp/pam.?; do
		[ -d "$_d" ] && [ -O "$_d" ] && [ ! -L "$_d" ] || continue
		_p=$(cat "$_d/pid" 2>/dev/null) || continue
		case $_p in '' | *[!0-9]*) continue ;; esac
		[ -d "/proc/$_p" ] || rm -rf "$_d"
	done
	return 0
}

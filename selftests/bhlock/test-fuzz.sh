#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Hostile input. Every module parameter with values no parser may accept; the control file
# with random, binary and oversized writes, two writers racing start and stop, a scenario
# asked for during a run; rmmod while a debugfs file is open and while a `scenario` write is
# in progress. Each bad input is refused and changes nothing, nothing hangs, and the module
# can always be removed.
. "$(dirname "$0")/functions.sh"

setup_test
params_needed

# Parameters: for each, values its type cannot parse; insmod must fail and leave no module
# behind. A bool takes y/n/1/0/on/off and anything starting with y, n, t, f, 1 or 0. The
# parameters of one type share a parser: at gate size the first of each type gets every value
# and the others the first one; at soak size every parameter gets every value.
declare -A type_fuzzed
for p in $(param_names); do
	gate_skipped "" "fuzz.param.$p" && continue
	type=$(param_type "$p")
	case $type in
	bool) values=(maybe '' 2) ;;
	*) values=(fast '' 12abc 1.5 99999999999999999999 -99999999999999999999) ;;
	esac
	[ "$scale" = soak ] || [ -z "${type_fuzzed[$type]:-}" ] || values=("${values[0]}")
	type_fuzzed[$type]=1
	accepted=
	for v in "${values[@]}"; do
		if load "$p=$v" 2>/dev/null || [ -e "/sys/module/$mod" ]; then
			accepted+=" '$v'"
			unload
		fi
	done
	check "fuzz.param.$p" "$([ -z "$accepted" ]; echo $?)" "accepted:$accepted"
done
if ! gate_skipped "" fuzz.load_after_bad_params; then
	load && unload
	check fuzz.load_after_bad_params $?
fi

# load_for_writes: loads the module and notes the state the writes must leave unchanged.
load_for_writes() {
	load
	save_health
	set_marker
	read_stats
	before=$stats
}

# write_refused TEXT...: each write of TEXT to control fails.
write_refused() {
	local text
	for text in "$@"; do
		printf '%s' "$text" 2>/dev/null >"$debugfs/control" && accepted=$((accepted + 1))
	done
}

# unchanged_since_before: no run started, nothing printed a Start line, the stats as before.
unchanged_since_before() {
	read_stats
	[ "$accepted" -eq 0 ] && [ "$stats" = "$before" ] && ! logged "Start of test|run [0-9]+: started"
}

# random_text: 1 to 64 random bytes (no NUL, which bash strings cannot hold) in $text, the
# next ones of $random_bytes, one read of /dev/urandom (a program per write, or bash's printf
# per byte, takes most of a minute for the writes below under TCG). Call it with LC_ALL=C:
# offsets count bytes.
random_text() {
	local n=$((RANDOM % 64 + 1))
	text=${random_bytes:random_offset:n}
	random_offset=$((random_offset + n))
}

# The control file's parser: the same code on every kernel.
if ! gate_skipped "" fuzz.control_random fuzz.control_binary fuzz.control_oversized; then
	load_for_writes
	accepted=0
	random_writes=200
	random_bytes=$(head -c $((random_writes * 64 + 1024)) /dev/urandom | LC_ALL=C tr '\0' '\1')
	random_offset=0
	writes=0
	for ((i = 0; i < random_writes; i++)); do
		LC_ALL=C random_text
		write_refused "$text"
		writes=$((writes + 1))
	done
	unchanged_since_before
	check fuzz.control_random $? "$accepted of $writes random writes accepted" "$stats"

	printf 'start\0' 2>/dev/null >"$debugfs/control" && accepted=$((accepted + 1))
	printf '\0\0\0\0' 2>/dev/null >"$debugfs/control" && accepted=$((accepted + 1))
	write_refused $'stop\x01' $'\xff\xfe' 'scenario' 'scenario ' 'scenario nosuchcase' 'START' \
		'start start' 'scenario all all'
	unchanged_since_before
	check fuzz.control_binary $? "$accepted binary or near-miss writes accepted" "$stats"

	write_refused "$(printf 'start%60s' '')" "$(head -c 4096 /dev/zero | tr '\0' a)" \
		"$(head -c 1048576 /dev/zero | tr '\0' ' ')start"
	unchanged_since_before
	check fuzz.control_oversized $? "$accepted oversized writes accepted" "$stats"
	unload
fi

# Runs started, refused and unloaded under racing writes: the threads and locks of the run
# differ with PREEMPT_RT.
if ! gate_skipped preempt_rt fuzz.control_two_writers fuzz.scenario_during_run \
	fuzz.rmmod_with_stats_open fuzz.rmmod_with_control_open fuzz.rmmod_during_scenario; then
	load_for_writes

	# Two writers racing: one starts, one stops, 30 times each. Every run that started ends.
	set_marker
	for cmd in start stop; do
		for ((i = 0; i < 30; i++)); do
			echo "$cmd" 2>/dev/null >"$debugfs/control"
		done &
	done
	wait
	echo stop >"$debugfs/control"
	started=$(log_since_marker | grep -cE "$mod: run [0-9]+: started")
	ended=$(log_since_marker | grep -cE "$mod: run [0-9]+: End of test")
	[ "$started" -gt 0 ] && [ "$started" -eq "$ended" ] && [ -z "$(report_banners)" ] &&
		health_unchanged
	check fuzz.control_two_writers $? "runs started $started, ended $ended" "$(health_diag)" \
		"$(report_banners)"

	# A scenario asked for during a run is refused before it prints anything.
	set_marker
	echo start >"$debugfs/control"
	refused=0
	echo "scenario all" 2>/dev/null >"$debugfs/control" || refused=$((refused + 1))
	first_case=$(scenario_names scenario | head -n 1)
	echo "scenario ${first_case:-none}" 2>/dev/null >"$debugfs/control" || refused=$((refused + 1))
	echo stop >"$debugfs/control"
	[ "$refused" -eq 2 ] && ! logged "scenario .*: Start of test" && logged "control: .* refused"
	check fuzz.scenario_during_run $? "$refused of 2 refused" "$(log_since_marker | grep "$mod")"

	# rmmod with a debugfs file open: refused (the file holds the module), then fine once closed.
	for file in stats control; do
		set_marker
		if [ "$file" = stats ]; then
			exec 3<"$debugfs/$file" && read -r _ <&3
		else
			exec 3>"$debugfs/$file"
		fi
		removed=0
		rmmod $mod 2>/dev/null && removed=1
		exec 3>&-
		[ "$removed" -eq 0 ] && unload && [ ! -e "$debugfs" ] && [ -z "$(report_banners)" ] &&
			health_unchanged
		check "fuzz.rmmod_with_${file}_open" $? "rmmod with $file open: removed=$removed" \
			"$(health_diag)" "$(report_banners)"
		load
	done

	# rmmod while a `scenario` write is in progress: refused until the write is done (its file
	# holds the module; an rmmod between the write's End line and the writer's exit may succeed).
	# An attempt whose write ended before the first rmmod ran shows nothing either way: the
	# host can hold a vCPU off for longer than the case runs (seen once in a cold make check,
	# with kernels building beside the guest). It is made again, up to three attempts.
	if [ -n "$first_case" ]; then
		for attempt in 1 2 3; do
			set_marker
			echo "scenario $first_case" >"$debugfs/control" &
			writer=$!
			tries=0
			removed=0
			while kill -0 "$writer" 2>/dev/null; do
				if rmmod $mod 2>/dev/null; then
					logged "scenario $first_case: End of test" && removed=1 || removed=early
					break
				fi
				tries=$((tries + 1))
			done
			wait "$writer"
			if [ "$tries" -gt 0 ] || [ "$removed" = early ]; then
				break
			fi
			[ -e "/sys/module/$mod" ] || load
		done
		[ "$removed" != early ] && [ "$tries" -gt 0 ] &&
			logged "scenario $first_case: End of test: SUCCESS" && unload && health_unchanged
		check fuzz.rmmod_during_scenario $? \
			"rmmod tried $tries times during the write (attempt $attempt of 3), removed=$removed" \
			"$(log_since_marker | grep "$mod: scenario $first_case: End")" "$(health_diag)"
	else
		ktap_skip "$(test_name fuzz.rmmod_during_scenario)" "SCENARIOS selects no run case"
	fi
	unload
fi

ktap_finished

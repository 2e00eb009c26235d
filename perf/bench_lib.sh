# Shared by the worker-loop benchmarks (bench_worker.sh, bench_payload.sh,
# bench_qos_meter.sh): the EAL every run gets and one repetition of
# sluice-bench-worker. Source it after setting BENCH, CORES, DURATION,
# WARMUP, SOCKET_MEM, T (a scratch directory), BENCH_NAME (the script's
# name, for messages) and BENCH_PREFIX (EAL file prefixes start with it).

# net_null_eal LABEL: two net_null ports, private memory, nothing left
# behind; the lcores (-l) are the caller's.
net_null_eal() {
	echo --no-pci --in-memory --file-prefix "$BENCH_PREFIX$$-$1" \
		--socket-mem "$SOCKET_MEM" --vdev net_null0 --vdev net_null1 \
		--log-level=lib.eal:warning --log-level=pmd:warning
}

# bench_rep LABEL OUT ARGS...: one repetition of sluice-bench-worker on
# CORES; its JSON report goes to OUT, its log to $T/LABEL.log.
bench_rep() {
	local label=$1 out=$2
	shift 2
	# shellcheck disable=SC2046	# the EAL options are words
	"$BENCH" -l "$CORES" $(net_null_eal "$label") -- --label "$label" --reps 1 \
		--duration "$DURATION" --warmup "$WARMUP" --json "$out" "$@" \
		>"$T/$label.log" 2>&1 || {
		echo "$BENCH_NAME: sluice-bench-worker $label failed:" >&2
		tail -20 "$T/$label.log" >&2
		return 1
	}
}

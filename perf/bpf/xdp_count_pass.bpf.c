/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * The XDP benchmark's peer (perf/xdp_bench.c): the least an XDP program
 * that keeps any state can do. It counts the packet and its bytes in a
 * per-CPU array and passes it, so sluice's program is measured against
 * the cost of running a program at all, plus one map lookup and write.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Per-CPU packet and byte counts; the bench reads them. */
struct xdp_count {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_count);
} counts SEC(".maps");

SEC("xdp")
int xdp_count_pass(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct xdp_count *c = bpf_map_lookup_elem(&counts, &zero);

	if (c != NULL) {
		c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

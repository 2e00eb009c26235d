/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Build check, never run: proves common/tbucket.h compiles for the BPF
 * target (clang -target bpf) with every function called on values the
 * compiler cannot fold away, so a 128-bit type, a libc call or a loop
 * clang cannot unroll fails the tbucket test instead of the XDP build.
 */
#include <linux/bpf.h>
#include <linux/types.h>

#include "../../common/tbucket.h"

#define SL_SEC(name) __attribute__((section(name), used))

/* The kernel's clock, as the XDP program reads it. */
static __u64 (*sl_ktime_get_ns)(void) = (void *)BPF_FUNC_ktime_get_ns;

/* Global data (.bss): user space writes the profile, the program the rest. */
struct sl_tb_profile sl_check_profile;
struct sl_tb sl_check_bucket;
__u64 sl_check_fill_ns;
__u64 sl_check_wait_ns;
__u64 sl_check_depart_ns;

/* Accepts any packet; meters its length in bits against the bucket. */
SL_SEC("xdp") int sl_tb_bpf_check(struct xdp_md *ctx)
{
	__u64 now = sl_ktime_get_ns();
	__u64 cost = (__u64)(ctx->data_end - ctx->data) * 8;
	struct sl_tb_profile p;

	/* Profiles come from user space; this only proves it compiles. */
	if (sl_tb_profile_init(&p, cost + 1, cost * 2 + 1) == 0)
		sl_check_fill_ns = p.fill_ns;
	if (sl_check_bucket.last_ns == 0)
		sl_tb_init(&sl_check_bucket, &sl_check_profile, now);
	sl_tb_refill(&sl_check_bucket, &sl_check_profile, now);
	sl_check_wait_ns = sl_tb_wait_ns(&sl_check_bucket, &sl_check_profile,
					 cost);
	if (sl_tb_conform(&sl_check_bucket, &sl_check_profile, now, cost))
		return XDP_PASS;
	if (sl_tb_schedule(&sl_check_bucket, &sl_check_profile, now, cost,
			   sl_check_wait_ns, &sl_check_depart_ns))
		return XDP_TX;
	return XDP_DROP;
}

char sl_license[] SL_SEC("license") = "Dual BSD/GPL";

/* SPDX-License-Identifier: BSD-3-Clause */
/* Placeholder: the policy tests land with the policy module. */
int main(void)
{
	return 77;	/* meson: skipped */
}

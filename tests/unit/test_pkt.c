/* SPDX-License-Identifier: BSD-3-Clause */
/* Placeholder: the pkt tests land with the pkt module. */
int main(void)
{
	return 77;	/* meson: skipped */
}

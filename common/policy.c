/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy loader: placeholder until the YAML loader lands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int sl_policy_load_buf(const char *name, const char *buf, size_t len,
		       struct sl_policy **out, struct sl_diags *diags)
{
	(void)buf; (void)len;
	*out = NULL;
	memset(diags, 0, sizeof(*diags));
	snprintf(diags->file, sizeof(diags->file), "%s", name);
	return -ENOSYS;
}

int sl_policy_load_file(const char *path, struct sl_policy **out,
			struct sl_diags *diags)
{
	return sl_policy_load_buf(path, "", 0, out, diags);
}

void sl_policy_free(struct sl_policy *p)
{
	free(p);
}

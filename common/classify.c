/* SPDX-License-Identifier: BSD-3-Clause */
/* Classifier: placeholder until the rte_acl classifier lands. */
#include "classify.h"

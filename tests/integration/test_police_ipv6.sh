#!/usr/bin/env bash
# The policing test over IPv6: the same limits, the same tolerances.
exec bash "$(dirname "$0")/test_police.sh" 6

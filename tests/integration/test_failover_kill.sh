#!/usr/bin/env bash
# Failover on kill -9 of sluice-dp and failback on its restart (failover.sh).
MODE=kill
. "$(dirname "$0")/failover.sh"

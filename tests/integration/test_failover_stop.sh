#!/usr/bin/env bash
# Failover on SIGSTOP of sluice-dp and failback on SIGCONT (failover.sh).
MODE=stop
. "$(dirname "$0")/failover.sh"

#!/usr/bin/env bash
# The policing test with the gateway's ports on AF_XDP sockets
# (net_af_xdp) instead of AF_PACKET: same limits, same tolerances.
DP_PMD=net_af_xdp exec bash "$(dirname "$0")/test_police.sh" 4

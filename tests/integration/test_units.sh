#!/usr/bin/env bash
# The systemd units and install script verify clean (deploy/systemd/verify.sh).
exec bash "$(dirname "$0")/../../deploy/systemd/verify.sh"

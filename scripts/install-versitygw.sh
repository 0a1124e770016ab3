#!/usr/bin/env bash
# Placeholder until the S3-compatibility suite lands: nothing to install yet.
echo "versitygw: not needed yet"

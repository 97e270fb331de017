#!/usr/bin/env bash
# test_cluster_blobs_pg.sh — test_cluster_blobs.sh with BlobStore
# postgresql: the same checks, the blobs in the shared database (the
# blob store "down" is its table made unreachable while the database,
# which the index needs, stays up). Ports TZ_PORT_BASE..+9.
TZ_PORT_BASE=${TZ_PORT_BASE:-3380} TZ_BLOB=postgresql exec bash "$(dirname "$0")/test_cluster_blobs.sh"

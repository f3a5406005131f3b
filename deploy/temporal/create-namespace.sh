#!/bin/sh
# Waits until the Temporal cluster serves, then creates the namespace
# Tandem runs in if it is missing.
set -eu
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" | grep -q SERVING; do
  echo "Waiting for Temporal at $TEMPORAL_ADDRESS..."
  sleep 2
done
if ! temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" --retention "${TEMPORAL_RETENTION:-72h}"
fi
echo "Namespace $TEMPORAL_NAMESPACE is ready."

#!/bin/sh
# Creates Temporal's two PostgreSQL databases and brings their schemas up
# to date, with the temporal-sql-tool of temporalio/admin-tools. Safe to run
# on every `docker compose up`: it creates only what is missing.
set -eu
tool="temporal-sql-tool --plugin postgres12 --ep ${POSTGRES_SEEDS} -p ${DB_PORT} -u ${POSTGRES_USER} --pw ${POSTGRES_PWD}"
schemas=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  $tool --db "$db" create 2>/dev/null || true
  $tool --db "$db" setup-schema -v 0.0 2>/dev/null || true
  $tool --db "$db" update-schema -d "$schemas/$dir/versioned"
done
echo "Temporal schemas are up to date."

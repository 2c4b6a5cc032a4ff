#!/bin/sh
# Runs once, when the data-plane volume is first initialised (the postgres
# image's /docker-entrypoint-initdb.d): the demo parent database `shop`.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -c 'CREATE DATABASE shop'
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname shop -f /seed/shop.sql

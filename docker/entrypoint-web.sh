#!/bin/sh
# Migrations run before the web server takes requests, so that no request meets an old schema.
# Workers and beat wait for this service to be healthy, which they take to mean "migrated".
set -eu

python manage.py migrate --noinput

exec "$@"

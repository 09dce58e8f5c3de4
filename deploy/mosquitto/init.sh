#!/bin/sh
# Builds the broker's password file from the environment (written by `facility init` into .env):
#   FACILITY_MQTT_PASSWORD       the service's account, user "facility"
#   FACILITY_DEVICE_CREDENTIALS  "site:password,site:password": one device account per site
set -eu
file=${PASSWORD_FILE:-/mosquitto/data/passwd}
: "${FACILITY_MQTT_PASSWORD:?set FACILITY_MQTT_PASSWORD (run: facility init)}"
rm -f "$file"
touch "$file"
chmod 0600 "$file"
mosquitto_passwd -b "$file" facility "$FACILITY_MQTT_PASSWORD"
old_ifs=$IFS
IFS=','
for pair in ${FACILITY_DEVICE_CREDENTIALS:-}; do
  [ -n "$pair" ] || continue
  site=${pair%%:*}
  password=${pair#*:}
  mosquitto_passwd -b "$file" "$site" "$password"
done
IFS=$old_ifs
chown mosquitto:mosquitto "$file" 2>/dev/null || true
echo "password file written for facility and $(($(wc -l < "$file") - 1)) site account(s)"

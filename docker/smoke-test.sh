#!/bin/sh
# make docker-test: build the image, let it poll a local feed, and ask its /healthz through -p.
# Needs a running Docker daemon (and the base image, from a registry or a cache); where there
# is none it says so and exits 77 ("skipped": nothing was tested, so it is not a pass).
# $DOCKER names the docker command (default: docker).
set -eu
cd "$(dirname "$0")/.."
docker() { command "${DOCKER:-docker}" "$@"; }
if ! docker info >/dev/null 2>&1; then
  echo "docker-test: skipped: no Docker daemon here (docker info fails); nothing was tested" >&2
  exit 77
fi
work=$(mktemp -d)
name=monitor-smoke-$$
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; kill "$feed_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# a feed of our own on the host's loopback
cat > "$work/feed.xml" <<'XML'
<?xml version="1.0"?><rss version="2.0"><channel><title>desk</title>
<item><title>Regime forces and Hizbollah clash</title><link>http://127.0.0.1/1</link>
<guid>smoke-1</guid><description>Regime forces clashed with Hizbollah at dawn.</description></item>
</channel></rss>
XML
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work" >/dev/null 2>&1 &
feed_pid=$!
# the example configuration with that feed as its only source (PyYAML from the project's venv)
"${PY:-.venv/bin/python}" - "$work/monitor.yaml" "$port" <<'PY'
import sys, yaml
path, port = sys.argv[1], sys.argv[2]
data = yaml.safe_load(open("config/monitor.yaml"))
data["sources"] = [{"name": "smoke", "url": f"http://127.0.0.1:{port}/feed.xml"}]
data["fetch"]["allow_private"] = True
data["storage"]["url"] = "${MONITOR_DATABASE}"
data["daemon"]["listen"] = "${MONITOR_LISTEN}"
open(path, "w").write(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
PY
chmod a+r "$work/monitor.yaml"

docker build -q -t monitor:smoke . >/dev/null
docker run --rm --network host -v "$work/monitor.yaml:/config/monitor.yaml:ro" monitor:smoke \
  monitor check
docker run --rm --network host -v "$work/monitor.yaml:/config/monitor.yaml:ro" monitor:smoke \
  monitor once --json | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["sources"][0]["new"] == 1, r; print("once: polled the local feed, 1 new article")'
docker run -d --name "$name" -p 127.0.0.1:19108:9108 monitor:smoke >/dev/null
for _ in $(seq 1 60); do
  if curl -fsS http://127.0.0.1:19108/healthz; then echo; echo "docker-test: ok"; exit 0; fi
  sleep 1
done
docker logs "$name" >&2
echo "docker-test: /healthz did not answer through -p within 60 s" >&2
exit 1

"""Private RabbitMQ nodes (scripts/rabbitmq-node.sh) and a 3-node cluster of them, driven through
rabbitmqctl and the management API (both on 127.0.0.1 only)."""
import base64
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request


class BrokerError(RuntimeError):
    pass


class Node:
    """One private node: own name, ports and data directory (under /tmp: the rabbitmq user must reach it)."""

    def __init__(self, root, directory, name):
        self.root = root
        self.dir = directory
        self.name = name
        self.nodename = f"{name}@localhost"
        self.amqp_port = None
        self.mgmt_port = None
        self.started = False

    def start(self, timeout=180):
        self.started = True  # from here on, stop() has something to clean up
        if os.path.exists(os.path.join(self.dir, "node.pid")):
            os.unlink(os.path.join(self.dir, "node.pid"))
        try:
            done = subprocess.run([str(self.root / "scripts" / "rabbitmq-node.sh"), "start", self.dir, self.name],
                                  capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            self.started = True  # so stop() cleans up whatever half-started
            raise BrokerError(f"node {self.nodename} did not start within {timeout} s")
        self.started = True
        if done.returncode != 0:
            raise BrokerError(f"node {self.nodename} did not start: {done.stderr.strip()[-400:]}")
        exports = {}
        for line in done.stdout.splitlines():
            if line.startswith("export "):
                key, _, value = line[len("export "):].partition("=")
                exports[key] = shlex.split(value)[0] if value else ""
        self.amqp_port = int(urllib.parse.urlparse(exports["HERALD_TEST_AMQP_URL"]).port)
        self.mgmt_port = int(exports["HERALD_TEST_RABBIT_MGMT_PORT"])
        return self

    def stop(self):
        if not self.started:
            return
        subprocess.run([str(self.root / "scripts" / "rabbitmq-node.sh"), "stop", self.dir],
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        self.started = False

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def amqp_url(self, vhost):
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/{urllib.parse.quote(vhost, safe='')}"

    def ctl(self, *args, timeout=90, check=True, attempts=4):
        """rabbitmqctl against this node. A failed call is retried (every command used here is
        idempotent): the CLI starts an Erlang node of its own named `rabbitmqcli-<small random>`,
        and with other brokers' CLIs busy on the same machine that name can clash, failing the
        call before it reached the node."""
        for attempt in range(attempts):
            try:
                done = subprocess.run(["rabbitmqctl", "-n", self.nodename, *args], capture_output=True, text=True,
                                      timeout=timeout, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                if attempt == attempts - 1:
                    raise BrokerError(f"rabbitmqctl {' '.join(args)}: no answer in {timeout} s")
                continue
            if done.returncode == 0 or not check:
                return done.stdout
            if attempt < attempts - 1:
                time.sleep(1 + attempt)
        raise BrokerError(f"rabbitmqctl {' '.join(args)}: {(done.stderr or done.stdout).strip()[-300:]}")

    def queues_ctl(self, *args, timeout=90):
        return subprocess.run(["rabbitmq-queues", "-n", self.nodename, *args], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def beam_pid(self):
        try:
            return int(open(os.path.join(self.dir, "node.pid")).read().strip())
        except (OSError, ValueError):
            return None

    def kill9(self):
        pid = self.beam_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pid

    # ------------------------------------------------------------ management API
    def mgmt(self, method, path, body=None, timeout=10):
        request = urllib.request.Request(f"http://127.0.0.1:{self.mgmt_port}/api{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
            return json.loads(text) if text else None

    def add_vhost(self, vhost):
        v = urllib.parse.quote(vhost, safe="")
        self.mgmt("PUT", f"/vhosts/{v}", {})
        self.mgmt("PUT", f"/permissions/{v}/guest", {"configure": ".*", "write": ".*", "read": ".*"})

    def delete_vhost(self, vhost):
        try:
            self.mgmt("DELETE", f"/vhosts/{urllib.parse.quote(vhost, safe='')}", timeout=60)
        except (urllib.error.URLError, OSError):
            pass

    def queue_depths(self, vhost):
        """{queue: messages (ready + unacked)} through rabbitmqctl: the management API's counts lag."""
        out = self.ctl("list_queues", "-p", vhost, "name", "messages", "--no-table-headers", "--quiet", timeout=60)
        depths = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                depths[parts[0]] = int(parts[1])
        return depths

    def await_startup(self, timeout=120):
        self.ctl("await_startup", "--timeout", str(timeout), timeout=timeout + 10)


class Cluster:
    """Three private nodes joined into one cluster (same Erlang cookie: Debian's, of the rabbitmq user)."""

    def __init__(self, root, base_dir, base_name):
        self.nodes = [Node(root, f"{base_dir}-c{i}", f"{base_name}-c{i}") for i in (1, 2, 3)]

    def start(self):
        for node in self.nodes:
            node.start()
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.nodename)
            node.ctl("start_app")
            node.await_startup()
        status = first.ctl("cluster_status", "--formatter", "json")
        running = json.loads(status).get("running_nodes", [])
        if len(running) != 3:
            raise BrokerError(f"cluster formed with {len(running)} running nodes: {running}")
        return self

    def stop(self):
        for node in reversed(self.nodes):
            try:
                node.stop()
            except Exception:
                pass

    def remove(self):
        for node in self.nodes:
            node.remove()

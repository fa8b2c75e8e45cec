"""The ledger: every accepted (endpoint, event) pair must end delivered (a verified receipt at the
receiver) or dead (a letter in herald.dead). lost = expected - delivered - dead."""
import datetime
import json
import os
import tempfile
import time
from collections import Counter



def chosen_id(endpoint):
    """The endpoint id its account chose: letters and jobs carry the store's key `<account>/<id>`."""
    if isinstance(endpoint, str) and "/" in endpoint:
        return endpoint.split("/", 1)[1]
    return endpoint

def parse_time(value):
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, (int, float)):
        return value / 1000.0 if value > 1e11 else float(value)
    try:
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _text(value):
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def read_dead_letters(herald, work_dir, timeout=60):
    """Every letter in herald.dead (up to 65,535), read without removing any, as heraldctl does it:
    a consumer with manual acknowledgement and a prefetch as deep as the queue, then the connection
    is closed and the broker puts every letter back in order. With pika; without pika,
    `heraldctl dlq export --keep` (which ends its walk after 0.8 s without a message, so a busy
    broker can make it read fewer).

    Returns (letters, error): letters as dicts {event, endpoint, reason, dead_at}."""
    try:
        import pika
    except ImportError:
        return _read_dead_letters_heraldctl(herald, work_dir)
    deadline = time.monotonic() + timeout
    letters = []
    try:
        connection = pika.BlockingConnection(pika.URLParameters(herald.env["HERALD_AMQP_URL"] + "?heartbeat=0"))
    except Exception as error:
        return [], f"reading herald.dead: cannot connect: {type(error).__name__}"
    try:
        channel = connection.channel()
        total = channel.queue_declare("herald.dead", passive=True).method.message_count
        if total == 0:
            return [], None
        channel.basic_qos(prefetch_count=min(total, 65535))
        for method, properties, body in channel.consume("herald.dead", auto_ack=False, inactivity_timeout=10):
            if method is None:
                return letters, f"reading herald.dead: {len(letters)} of {total} letters arrived, then nothing for 10 s"
            headers = {k: _text(v) for k, v in (properties.headers or {}).items()}
            event, endpoint = headers.get("herald-event-id"), headers.get("herald-endpoint-id")
            dead_at = parse_time(headers.get("herald-dead-at"))
            if (not event or not endpoint) and body[:1] == b"{":
                try:
                    parsed = json.loads(body)
                    if parsed.get("kind") == "herald.delivery":
                        event = event or (parsed.get("event") or {}).get("id")
                        endpoint = endpoint or parsed.get("endpointId")
                    elif parsed.get("kind") == "herald.event":
                        event = event or parsed.get("id")
                except (ValueError, AttributeError, RecursionError):
                    pass
            if dead_at is None:
                deaths = (properties.headers or {}).get("x-death") or []
                when = deaths[0].get("time") if deaths and isinstance(deaths[0], dict) else None
                dead_at = when.replace(tzinfo=datetime.timezone.utc).timestamp() if isinstance(when, datetime.datetime) else None
            letters.append({"event": _text(event), "endpoint": chosen_id(_text(endpoint)), "reason": headers.get("herald-reason"),
                            "dead_at": dead_at})
            if len(letters) >= min(total, 65535):
                return letters, None
            if time.monotonic() > deadline:
                return letters, f"reading herald.dead: {len(letters)} of {total} letters in {timeout} s"
        return letters, None
    except Exception as error:  # a broker fault may make the read fail: say so, try again later
        return letters, f"reading herald.dead: {type(error).__name__}: {error}"
    finally:
        try:
            connection.close()  # nothing was acknowledged: every letter goes back, in order
        except Exception:
            pass


def _read_dead_letters_heraldctl(herald, work_dir):
    fd, path = tempfile.mkstemp(prefix="dlq-", suffix=".jsonl", dir=work_dir)
    os.close(fd)
    os.unlink(path)  # heraldctl creates it
    try:
        done = herald.ctl("dlq", "export", path, "--keep", timeout=120)
        if done.returncode != 0:
            return [], f"heraldctl dlq export failed: {done.stderr.strip()[-200:]}"
        letters = []
        with open(path, errors="replace") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                headers = record.get("headers") or {}
                body = record.get("body") if isinstance(record.get("body"), dict) else {}
                event = headers.get("herald-event-id") or (body.get("event") or {}).get("id") or body.get("id")
                endpoint = headers.get("herald-endpoint-id") or body.get("endpointId")
                if (not event or not endpoint) and ":" in str((record.get("properties") or {}).get("messageId", "")):
                    event, _, endpoint = record["properties"]["messageId"].rpartition(":")
                letters.append({"event": event, "endpoint": chosen_id(endpoint), "reason": headers.get("herald-reason"),
                                "dead_at": parse_time(headers.get("herald-dead-at"))})
        return letters, None
    except Exception as error:  # a broker fault may make the read fail: say so, try again later
        return [], f"reading herald.dead: {error}"
    finally:
        if os.path.exists(path):
            os.unlink(path)


def names(event_types, event_type):
    """Whether an endpoint's filter names an operational event type: the type itself, or a glob on
    its own family (`attempt.*`); an empty filter, `*` or `message.*` does not."""
    family = event_type.split(".")[0] + "."
    return any(t == event_type or (t.startswith(family) and "*" in t) for t in (event_types or []))


class Reconciliation:
    def __init__(self, expected, receivers, letters, fault_end=None, first_try=None):
        """`expected`: {(endpoint id, event id): accepted wall time}; `receivers`: the verifying ones;
        `first_try`: {event id: wall time of the first request} (an event refused with 503 during the
        fault was tried before its end, and is part of the backlog that must drain)."""
        self.expected = expected
        first_ok = {}
        receipts = Counter()
        self.bad_signatures = 0
        self.operational = Counter()
        self.self_operational = []  # operational events delivered to the endpoint they are about
        self.unnamed_operational = []  # operational events delivered to an endpoint that does not name them
        self.foreign = 0
        for rx in receivers:
            for _mono, wall, event_id, verified, outcome, event_type, about in rx.snapshot():
                if outcome == "bad-signature":
                    self.bad_signatures += 1
                if event_type and not event_type.startswith("message."):
                    self.operational[event_type] += 1
                    if about and about == rx.endpoint_id:
                        self.self_operational.append((rx.endpoint_id, event_id, event_type))
                    if not names(rx.event_types, event_type):
                        self.unnamed_operational.append((rx.endpoint_id, event_id, event_type))
                if not verified:
                    continue
                key = (rx.endpoint_id, event_id)
                receipts[key] += 1
                first_ok.setdefault(key, wall)
                if key not in expected:
                    self.foreign += 1
        dead_at = {}
        self.dead_reasons = Counter()
        self.foreign_dead = Counter()
        by_event = {}
        for endpoint_id, event_id in expected:
            by_event.setdefault(event_id, []).append((endpoint_id, event_id))
        self.event_letters = 0  # whole events in the DLQ (no endpoint: e.g. herald.sign's delivery limit)
        for letter in letters:
            key = (letter["endpoint"], letter["event"])
            if key in expected:
                dead_at.setdefault(key, letter["dead_at"] or 0.0)
                self.dead_reasons[letter["reason"] or "(no herald-reason)"] += 1
            elif letter["endpoint"] is None and letter["event"] in by_event:
                self.event_letters += 1
                self.dead_reasons[letter["reason"] or "(no herald-reason)"] += 1
                for k in by_event[letter["event"]]:
                    dead_at.setdefault(k, letter["dead_at"] or 0.0)
            else:
                self.foreign_dead[letter["reason"] or "(no herald-reason)"] += 1
        self.delivered = {k for k in expected if k in first_ok}
        self.dead = {k for k in expected if k in dead_at and k not in self.delivered}
        self.lost = set(expected) - self.delivered - self.dead
        self.duplicates = sum(n - 1 for k, n in receipts.items() if n > 1 and k in expected)
        self.completion = {k: first_ok.get(k, dead_at.get(k)) for k in self.delivered | self.dead}
        self.recovery = None
        if fault_end is not None and not self.lost:
            first_try = first_try or {}
            before = [self.completion[k] for k, t in expected.items()
                      if min(t, first_try.get(k[1], t)) <= fault_end and self.completion.get(k)]
            self.recovery = max(0.0, max(before) - fault_end) if before else 0.0

    def for_endpoints(self, endpoint_ids):
        keys = {k for k in self.expected if k[0] in endpoint_ids}
        return {"expected": len(keys), "delivered": len(keys & self.delivered), "dead": len(keys & self.dead),
                "lost": len(keys & self.lost)}

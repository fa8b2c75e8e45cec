"""Celery peer: default settings (durable `celery` queue, persistent messages; no result
backend). Worker: `celery -A celery_app worker -P prefork -c 2`."""
import os

from celery import Celery

import webhook

app = Celery("e2e", broker=os.environ["E2E_CELERY_BROKER"])


@app.task(name="e2e.deliver")
def deliver(event_id, event_type, occurred_at, data):
    webhook.deliver(event_id, event_type, occurred_at, data)

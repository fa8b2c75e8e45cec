"""Dramatiq peer: RabbitmqBroker with its defaults (durable queues, persistent messages).
Worker: `dramatiq -p 2 -t 8 dramatiq_app`."""
import os

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker

import webhook

dramatiq.set_broker(RabbitmqBroker(url=os.environ["E2E_DRAMATIQ_BROKER"]))


@dramatiq.actor(actor_name="e2e_deliver", queue_name="e2e")
def deliver(event_id, event_type, occurred_at, data):
    webhook.deliver(event_id, event_type, occurred_at, data)

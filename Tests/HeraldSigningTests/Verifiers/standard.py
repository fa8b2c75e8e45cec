"""Standard Webhooks: verify one case with the PyPI `standardwebhooks` package (independent
implementation). python3 standard.py case.json → exit 0 verified, 1 rejected, 3 package missing."""
import base64
import json
import sys

try:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError:
    print("the PyPI package 'standardwebhooks' is not installed (pip install standardwebhooks)", file=sys.stderr)
    sys.exit(3)

case = json.load(open(sys.argv[1]))
body = base64.b64decode(case["bodyBase64"])
headers = {name: value for name, value in case["headers"]}
try:
    Webhook(case["secret"]).verify(body, headers)
except WebhookVerificationError as e:
    print(f"rejected: {e}", file=sys.stderr)
    sys.exit(1)
sys.exit(0)

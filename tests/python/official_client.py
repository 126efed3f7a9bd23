"""The official Python client (kelviq-sdk on PyPI) runs the product docs' lifecycle against
kelviq-mock. Usage: python official_client.py http://127.0.0.1:PORT

Run by .ci/run against the emulator binary; exits non-zero on the first failure.
"""
import json
import sys
import urllib.request
import uuid

from kelviq_sdk import Kelviq

base = sys.argv[1]
API_KEY = "sk_test_python"
client = Kelviq.create_sync_client(
    access_token=API_KEY, base_url=base, edge_api_url=base, enable_cache=False
)


def control(path):
    """GET an emulator control endpoint for this script's tenant (its API key): the emulator
    keeps one state per key, and other clients may have used it first."""
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {API_KEY}"})
    return json.load(urllib.request.urlopen(request))
checks = 0


def check(condition, what):
    global checks
    if not condition:
        print(f"FAILED: {what}")
        sys.exit(1)
    checks += 1
    print(f"ok: {what}")


customer = client.customers.create(
    customerId="py-customer", email="py@example.com", name="Py Thon", metadata={"source": "python"}
)
check(customer.customerId == "py-customer", "customers.create")
updated = client.customers.update(customerId="py-customer", name="Renamed")
check(updated.name == "Renamed", "customers.update")

session = client.checkout.create_session(
    planIdentifier="plan-pro-monthly",
    chargePeriod="MONTHLY",
    successUrl="https://kelviq.com/checkout/success",
    customerId="py-customer",
    features=[{"identifier": "seats", "quantity": 5}],
)
check(session.checkoutUrl.startswith(base), "checkout.create_session")
completed = json.load(urllib.request.urlopen(session.checkoutUrl))
subscription = completed["subscriptionId"]

check(client.entitlements.has_access(customerId="py-customer", featureId="premium-reporting"), "has_access")
one = client.entitlements.get_entitlement(customerId="py-customer", featureId="api-usage")
check(one.usageLimit == 100, "get_entitlement (2.9 answers the aggregated entry)")
all_features = client.entitlements.get_entitlements(customerId="py-customer")
check("seats" in all_features, "get_entitlements")

usage = client.reporting.report_usage(value=100, customerId="py-customer", featureId="api-usage", behaviour="SET")
check(usage.value == 100, "report_usage")
check(not client.entitlements.has_access(customerId="py-customer", featureId="api-usage"), "hard limit reached")

key = uuid.uuid4().hex
for _ in range(2):
    event = client.reporting.report_event(
        customerId="py-customer",
        eventName="api_invoked",
        idempotencyKey=key,
        timestamp="2025-05-22 07:53:55.747959",
        properties={"featureId": "advanced-analytics", "value": 2},
    )
check(event.idempotencyKey == key, "report_event")
usage_now = control("/_mock/customers/py-customer/usage")
check(usage_now.get("advanced-analytics") == 2, "a repeated event counted once")

moved = client.subscriptions.update(subscriptionId=subscription, planIdentifier="premium-plan", chargePeriod="MONTHLY")
check(str(moved.subscriptionId) == subscription, "subscriptions.update")
cancelled = client.subscriptions.cancel(subscriptionId=subscription, cancellationType="IMMEDIATE")
check(bool(cancelled.message), "subscriptions.cancel")
check(not client.entitlements.has_access(customerId="py-customer", featureId="premium-reporting"), "access ends")

# Beyond the seed: every further operation of the official client.
page = client.customers.list(page=1, page_size=10)
check(any(c.customerId == "py-customer" for c in page.results), "customers.list")
check(client.customers.retrieve(customerId="py-customer").name == "Renamed", "customers.retrieve")

direct = client.subscriptions.create(
    planIdentifier="pro-license", chargePeriod="YEARLY", customerId="py-customer", ipAddress="103.154.35.20"
)
check(direct.billingType == "SUBSCRIPTION" and len(direct.license) == 1, "subscriptions.create (a license issued)")
check(client.subscriptions.retrieve(subscriptionId=direct.id).id == direct.id, "subscriptions.retrieve")
listed = client.subscriptions.list(customerId="py-customer", page_size=10)
check(listed.count == 2, "subscriptions.list")
preview = client.subscriptions.preview_update(
    subscriptionId=direct.id, planIdentifier="premium-plan", chargePeriod="MONTHLY", prorationBehavior="NO_PRORATION"
)
check(preview.recurringAmountUnits == 9900 and preview.amountChargedImmediatelyUnits == 0, "subscriptions.preview_update")

portal = client.portal.create_session(customerId="py-customer")
check(portal.customerPortalUrl.startswith(base), "portal.create_session")

licence_key = direct.license[0].licenseKey
activation = client.license.activate(licenseKey=licence_key, instanceName="py-host", metadata={"os": "linux"})
check(activation.license.activationUsage == 1, "license.activate")
validation = client.license.validate(licenseKey=licence_key, instanceId=activation.instanceId)
check(validation.valid, "license.validate")
deactivated = client.license.deactivate(licenseKey=licence_key, instanceId=activation.instanceId)
check(bool(deactivated.message), "license.deactivate")

charge = client.charges.create(planIdentifier="lifetime-pack", chargePeriod="ONE_TIME", customerId="py-customer")
check(charge.billingType == "ONE_TIME", "charges.create")

orders = control("/_mock/customers/py-customer/orders")
refund = client.refunds.create(orderId=orders[0]["id"], amountUnits=100, reason="REQUESTED_BY_CUSTOMER")
check(refund.amountUnits == 100 and refund.status == "SUCCEEDED", "refunds.create")
check(client.refunds.retrieve(refundId=refund.id).id == refund.id, "refunds.retrieve")
check(client.refunds.list(status="SUCCEEDED").count == 1, "refunds.list")
transactions = client.transactions.list(status="success", page_size=50)
check(any(t.transactionType == "REFUND" for t in transactions.results), "transactions.list")
methods = client.payment_methods.list(customer_id="py-customer")
check(methods.count == 1, "payment_methods.list")

archived = client.customers.archive(customerId="py-customer")
check(bool(archived.message), "customers.archive")

print(f"official Python client: {checks} passed, 0 failed")

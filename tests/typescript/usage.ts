// What a TypeScript team writes against the client generated from openapi/kelviq.yaml:
// it must type-check under `tsc --strict` with no hand fixes to the generated code.
import { createClient } from "./generated/client";
import {
  createCustomer,
  getEntitlements,
  listCustomers,
  reportUsage,
  validateLicense,
} from "./generated/sdk.gen";
import type { ApiError, Customer, CustomerList, Subscription } from "./generated/types.gen";

const auth = () => "sk_test";
const api = createClient({ baseUrl: "https://sandboxapi.kelviq.com", auth });
// The document says so in the operation: entitlements are served by the edge host.
const edge = createClient({ baseUrl: "https://edge.sandboxapi.kelviq.com", auth });

export async function onboard(customerId: string): Promise<boolean> {
  const created = await createCustomer({
    client: api,
    body: { customer_id: customerId, email: "a@example.com", metadata: { source: "ts" }, billingAddress: { country: "IN" } },
  });
  if (created.error) {
    const error: ApiError = created.error;
    throw new Error(error.detail ?? "customer not created");
  }
  const customer: Customer = created.data;
  // Always present, null when unset.
  const email: string | null = customer.email;
  const source: string | undefined = customer.metadata?.["source"];
  console.log(email, source);

  await reportUsage({ client: api, body: { value: 1, customerId, featureId: "api-usage", behaviour: "DELTA" } });
  const entitlements = await getEntitlements({ client: edge, query: { customer_id: customerId } });
  return entitlements.data?.entitlements.some((e) => e.featureId === "premium" && e.hasAccess) ?? false;
}

export async function everyCustomer(): Promise<string[]> {
  const ids: string[] = [];
  for (let page = 1; ; page++) {
    const answer = await listCustomers({ client: api, query: { page, page_size: 100 } });
    const list: CustomerList | undefined = answer.data;
    if (!list) break;
    ids.push(...list.results.map((c) => c.customerId));
    if (list.next === null) break;
  }
  return ids;
}

export function describe(subscription: Subscription): string {
  const product = typeof subscription.product === "string" ? subscription.product : subscription.product?.name;
  return `${subscription.id} ${subscription.billingType} ${product ?? ""}`;
}

export async function licenseIsValid(key: string): Promise<boolean> {
  const answer = await validateLicense({ client: api, body: { license_key: key } });
  return answer.data?.valid ?? false;
}
